"""The OAuth consent page: a signed-in person lets an app act for them (or refuses), and
the app gets an authorization code (at its redirect URI, or shown for ``oob``). The token
exchange that follows is the API's (``api.oauth``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from twoorl import i18n
from twoorl.i18n import _
from twoorl.oauth import scopes as scope_names
from twoorl.oauth import service as oauth
from twoorl.oauth.models import OOB_REDIRECT_URI, OAuthApp
from twoorl.oauth.params import given
from twoorl.runtime.http import ServicesDep
from twoorl.web.auth import MaybeAccount
from twoorl.web.security import CsrfChecked
from twoorl.web.templating import render

router = APIRouter()


class ConsentRefused(Exception):
    """The request cannot be shown for consent (unknown app, redirect URI or scope)."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
        raise ConsentRefused(_("This app is not registered here, so it cannot ask for access."))
    try:
        uri = oauth.check_redirect_uri(app, redirect_uri)
        granted = oauth.check_scopes(app, given(scope))
    except oauth.OAuthError as error:
        raise ConsentRefused(error.message) from None
    return app, uri, granted


def _consent_error(request: Request, error: ConsentRefused) -> Response:
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
    if given(lang) and lang in i18n.LOCALES:
        i18n.set_locale(lang)
    if viewer is None:
        here = request.url.path + "?" + request.url.query
        return RedirectResponse(f"/login?next={quote(here)}", status_code=303)
    try:
        if response_type != "code":
            raise ConsentRefused(_("Only the authorization code flow is supported."))
        app, uri, granted = await _consent_request(svc, client_id, redirect_uri, scope)
    except ConsentRefused as error:
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
            "state": given(state) or "",
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
    except ConsentRefused as error:
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
