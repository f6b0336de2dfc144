"""OAuth2 endpoints: the consent page, the token endpoint (authorization code, password and
client credentials grants), revocation, and the RFC 8414 metadata document."""

from __future__ import annotations

import base64
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from twoorl import i18n
from twoorl.accounts import service as accounts
from twoorl.api import schemas
from twoorl.api.auth import ServicesDep
from twoorl.api.errors import ApiError
from twoorl.api.params import Params
from twoorl.errors import TwoorlError
from twoorl.i18n import _
from twoorl.oauth import scopes as scope_names
from twoorl.oauth import service as oauth
from twoorl.oauth.models import OOB_REDIRECT_URI, IssuedToken, OAuthApp
from twoorl.web.auth import MaybeAccount
from twoorl.web.security import CsrfChecked, enforce_rate_limit
from twoorl.web.services import site_url
from twoorl.web.templating import render

router = APIRouter(tags=["oauth"])
GRANT_TYPES = ["authorization_code", "password", "client_credentials"]
# Mastodon.py sends unset optional parameters as the literal words.
LITERAL_NOTHING = frozenset({"", "None", "null", "False", "false"})


def _given(value: str | None) -> str | None:
    return None if value is None or value in LITERAL_NOTHING else value


def scope_descriptions() -> dict[str, str]:
    return {
        "read": _("read your posts, timelines, notifications and the people you follow"),
        "write": _("post, delete, like and repost in your name, and change your profile"),
        "follow": _("follow and unfollow people for you"),
        "push": _("receive push notifications"),
    }


def _describe(granted: frozenset[str]) -> list[str]:
    described = scope_descriptions()
    shown = []
    for scope in scope_names.render(granted).split():
        top = scope.split(":", 1)[0]
        if scope in described:
            shown.append(described[scope])
        elif top not in granted:
            shown.append(scope)  # a sub-scope alone: show its technical name
    return shown


async def _consent_request(svc, client_id, redirect_uri, scope) -> tuple[OAuthApp, str, frozenset]:
    app = await oauth.app_for_client(svc.shards, client_id)
    if app is None:
        raise ApiError(400, _("This app is not registered here, so it cannot ask for access."))
    try:
        uri = oauth.check_redirect_uri(app, redirect_uri)
        granted = oauth.check_scopes(app, _given(scope))
    except oauth.OAuthError as error:
        raise ApiError(400, error.message) from None
    return app, uri, granted


def _consent_error(request: Request, error: ApiError) -> Response:
    return render(
        request,
        "error.html",
        {"title": error.message, "message": error.message, "status": error.status_code},
        error.status_code,
    )


@router.get("/oauth/authorize", include_in_schema=False)
@router.get("/oauth/authorize/", include_in_schema=False)
async def authorize_page(
    request: Request,
    svc: ServicesDep,
    viewer: MaybeAccount,
    client_id: str = "",
    redirect_uri: str = "",
    scope: str = "",
    state: str = "",
    lang: str = "",
    response_type: str = "code",
) -> Response:
    if _given(lang) and lang in i18n.LOCALES:
        i18n.set_locale(lang)
    if viewer is None:
        here = request.url.path + "?" + request.url.query
        return RedirectResponse(f"/login?next={quote(here)}", status_code=303)
    try:
        if response_type != "code":
            raise ApiError(400, _("Only the authorization code flow is supported."))
        app, uri, granted = await _consent_request(svc, client_id, redirect_uri, scope)
    except ApiError as error:
        return _consent_error(request, error)
    return render(
        request,
        "oauth_authorize.html",
        {
            "title": _("Authorize %(app)s") % {"app": app.name},
            "app": app,
            "account": viewer,
            "redirect_uri": uri,
            "scope": scope_names.render(granted),
            "scope_lines": _describe(granted),
            "state": _given(state) or "",
        },
    )


@router.post("/oauth/authorize", include_in_schema=False)
@router.post("/oauth/authorize/", include_in_schema=False)
async def authorize(
    request: Request,
    svc: ServicesDep,
    viewer: MaybeAccount,
    _csrf: CsrfChecked,
    client_id: Annotated[str, Form(max_length=100)] = "",
    redirect_uri: Annotated[str, Form(max_length=2000)] = "",
    scope: Annotated[str, Form(max_length=1000)] = "",
    state: Annotated[str, Form(max_length=2000)] = "",
    decision: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if viewer is None:
        return RedirectResponse("/login", status_code=303)
    try:
        app, uri, granted = await _consent_request(svc, client_id, redirect_uri, scope)
    except ApiError as error:
        return _consent_error(request, error)
    extra = {"state": state} if state else {}
    if decision != "approve":
        if uri == OOB_REDIRECT_URI:
            return render(
                request,
                "oauth_code.html",
                {"title": _("Access denied"), "app": app, "code": None},
            )
        return _redirect_with(uri, {"error": "access_denied", **extra})
    code = await oauth.issue_code(svc.shards, app, viewer, uri, granted)
    if uri == OOB_REDIRECT_URI:
        return render(
            request,
            "oauth_code.html",
            {"title": _("Authorization code"), "app": app, "code": code},
        )
    return _redirect_with(uri, {"code": code, **extra})


def _redirect_with(uri: str, query: dict[str, str]) -> Response:
    joiner = "&" if "?" in uri else "?"
    return RedirectResponse(uri + joiner + urlencode(query), status_code=303)


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
            _given(params.text("redirect_uri", max_length=2000)),
        )
    elif grant_type == "password":
        granted = oauth.check_scopes(app, _given(params.text("scope", max_length=1000)))
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
        granted = oauth.check_scopes(app, _given(params.text("scope", max_length=1000)))
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
