"""OAuth2 endpoints: the token endpoint (authorization code, password and client credentials
grants), revocation, and the RFC 8414 metadata document. The consent page, where a person
lets an app in, is a page of the site: ``web.oauth_consent``."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request

from twoorl.accounts import service as accounts
from twoorl.api import schemas
from twoorl.api.errors import ApiError
from twoorl.api.params import Params
from twoorl.errors import TwoorlError
from twoorl.i18n import _
from twoorl.oauth import scopes as scope_names
from twoorl.oauth import service as oauth
from twoorl.oauth.models import IssuedToken, OAuthApp
from twoorl.oauth.params import given
from twoorl.runtime.http import ServicesDep, enforce_rate_limit, site_url

router = APIRouter(tags=["oauth"])
GRANT_TYPES = ["authorization_code", "password", "client_credentials"]


def _client_from_basic_auth(request: Request) -> tuple[str | None, str | None]:
    scheme, _sep, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        client_id, _colon, secret = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None, None
    return client_id, secret


async def _client(request: Request, svc, params: Params) -> OAuthApp:
    """The app making a token request: its credentials in the form, or HTTP Basic."""
    basic_id, basic_secret = _client_from_basic_auth(request)
    return await oauth.authenticate_client(
        svc.shards,
        params.text("client_id", max_length=100) or basic_id,
        params.text("client_secret", max_length=100) or basic_secret,
    )


@router.post("/oauth/token", response_model=schemas.Token)
async def token(request: Request, svc: ServicesDep) -> schemas.Token:
    params = await Params.read(request)
    app = await _client(request, svc, params)
    grant_type = params.text("grant_type", "", max_length=100)
    if grant_type == "authorization_code":
        issued = await oauth.exchange_code(
            svc.shards,
            app,
            params.text("code", max_length=200),
            given(params.text("redirect_uri", max_length=2000)),
        )
    elif grant_type == "password":
        granted = oauth.check_scopes(app, given(params.text("scope", max_length=1000)))
        try:
            await enforce_rate_limit(request, svc, "login", svc.settings.rate_limit_login)
            account = await accounts.authenticate(
                svc.shards,
                svc.passwords,
                login=params.text("username", "", max_length=400),
                password=params.text("password", "", max_length=2000),
            )
        except TwoorlError as error:
            if error.status_code == 429:
                raise ApiError(429, error.message) from None
            raise oauth.OAuthError("invalid_grant", error.message, 400) from None
        issued = await oauth.issue_token(svc.shards, app, account.id, granted)
    elif grant_type == "client_credentials":
        granted = oauth.check_scopes(app, given(params.text("scope", max_length=1000)))
        issued = await oauth.issue_token(svc.shards, app, None, granted)
    else:
        raise oauth.OAuthError(
            "unsupported_grant_type",
            _("Twoorl supports the authorization_code, password and client_credentials grants."),
        )
    return token_entity(issued)


def token_entity(issued: IssuedToken) -> schemas.Token:
    return schemas.Token(
        access_token=issued.access_token,
        token_type="Bearer",
        scope=scope_names.render(issued.scopes),
        created_at=int(issued.created_at.timestamp()),
    )


@router.post("/oauth/revoke", response_model=schemas.Empty)
async def revoke(request: Request, svc: ServicesDep) -> schemas.Empty:
    params = await Params.read(request)
    app = await _client(request, svc, params)
    await oauth.revoke_token(svc.shards, app, params.text("token", "", max_length=200))
    return schemas.Empty()


@router.get("/.well-known/oauth-authorization-server", tags=["oauth"])
async def metadata(request: Request) -> dict:
    base = site_url(request)
    if not base.startswith("https://"):
        # RFC 8414 issuers are https URLs, and clients (Mastodon.py) refuse http endpoints
        # found here; without the document they use the standard /oauth paths.
        raise ApiError(404, _("This server publishes OAuth metadata only over https."))
    return {
        "issuer": f"{base}/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": sorted(scope_names.KNOWN),
        "response_types_supported": ["code"],
        # Only ``query``: the consent page always redirects with the code in the query string.
        "response_modes_supported": ["query"],
        "grant_types_supported": GRANT_TYPES,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }
