"""Who an API request acts for: a Bearer token, never the session cookie (a cookie would let
any site make requests in the person's name), checked against the scope each endpoint needs.
Also the per-token rate limit whose state every answer reports in ``X-RateLimit-*``."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from limits import parse

from twoorl import i18n
from twoorl.accounts.models import Account
from twoorl.api.errors import ApiError
from twoorl.i18n import _
from twoorl.oauth import scopes as scope_names
from twoorl.oauth.models import Grant
from twoorl.oauth.service import grant_for_token
from twoorl.runtime.http import client_ip, services


def bearer_token(request: Request, *, allow_query: bool = False) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if allow_query:
        # EventSource cannot set headers, so streaming also takes the token in the query.
        return request.query_params.get("access_token") or None
    return None


async def request_grant(request: Request) -> Grant | None:
    """The grant behind the request's token; an unknown or revoked token is a 401."""
    if hasattr(request.state, "grant"):
        return request.state.grant
    token = bearer_token(request, allow_query=request.url.path.startswith("/api/v1/streaming"))
    grant = None
    if token:
        grant = await grant_for_token(services(request).shards, token)
        if grant is None:
            # Counted against the address: guessing tokens is rate-limited like anything else.
            await _count_request(request, None)
            raise ApiError(401, _("The access token is invalid."), headers=_headers(request))
        if grant.account and grant.account.locale:
            i18n.set_locale(grant.account.locale)
    request.state.grant = grant
    await _count_request(request, grant)
    return grant


# The setting is read on every request; parsing it each time was a regex per request.
_parsed_limit = functools.lru_cache(maxsize=8)(parse)


async def _count_request(request: Request, grant: Grant | None) -> None:
    svc = services(request)
    limit = _parsed_limit(svc.settings.rate_limit_api)
    who = grant.token_hash if grant else client_ip(request)
    # A fixed window aligned to the clock, like Mastodon's: one counter per window, so a
    # request costs one round trip (INCR) and the reset time needs no second one.
    period = limit.get_expiry()
    window = int(time.time() // period)
    used = await svc.rate_limiter.storage.incr(limit.key_for("api", who, str(window)), period)
    reset = datetime.fromtimestamp((window + 1) * period, UTC)
    headers = {
        "X-RateLimit-Limit": str(limit.amount),
        "X-RateLimit-Remaining": str(max(limit.amount - used, 0)),
        # Mastodon sends an ISO 8601 time here, and clients (Mastodon.py) parse it as one.
        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.") + f"{reset.microsecond:06d}Z",
    }
    request.state.rate_limit_headers = headers
    if used > limit.amount:
        raise ApiError(429, _("Too many requests. Please wait a few minutes."), headers=headers)


def _headers(request: Request) -> dict[str, str]:
    return getattr(request.state, "rate_limit_headers", {})


def _check_scope(grant: Grant, scope: str) -> None:
    if not scope_names.grants(grant.scopes, scope):
        raise ApiError(403, _("This action is outside the authorized scopes."))


def user(scope: str):
    """A dependency: the account a user token acts for, holding ``scope``."""

    async def dependency(grant: Annotated[Grant | None, Depends(request_grant)]) -> Account:
        if grant is None:
            raise ApiError(401, _("The access token is invalid."))
        if grant.account is None:
            raise ApiError(422, _("This method requires an authenticated user."))
        _check_scope(grant, scope)
        return grant.account

    return Depends(dependency)


def maybe_user(scope: str):
    """A dependency for public endpoints: the account if a user token with ``scope`` came
    with the request, else None (an app token reads as nobody)."""

    async def dependency(
        grant: Annotated[Grant | None, Depends(request_grant)],
    ) -> Account | None:
        if grant is None or grant.account is None:
            return None
        _check_scope(grant, scope)
        return grant.account

    return Depends(dependency)


def any_grant():
    """A dependency for endpoints any valid token may call (an app checking itself)."""

    async def dependency(grant: Annotated[Grant | None, Depends(request_grant)]) -> Grant:
        if grant is None:
            raise ApiError(401, _("The access token is invalid."))
        return grant

    return Depends(dependency)


async def counted(request: Request) -> None:
    """For endpoints without a token: still rate-limited, still reporting the headers."""
    await request_grant(request)
