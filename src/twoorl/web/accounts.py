"""Registration, login, logout and the settings pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from twoorl.accounts import service as accounts
from twoorl.accounts import sessions
from twoorl.accounts.service import SUPPORTED_LOCALE_CODES
from twoorl.errors import TwoorlError
from twoorl.graph import blocks as graph_blocks
from twoorl.i18n import _
from twoorl.ids import parse_id
from twoorl.oauth import service as oauth
from twoorl.runtime.http import ServicesDep, client_ip, enforce_rate_limit
from twoorl.runtime.services import Services
from twoorl.web.auth import CurrentAccount, MaybeAccount, safe_next
from twoorl.web.security import SESSION_COOKIE, CsrfChecked, set_session_cookie
from twoorl.web.templating import render

router = APIRouter()


def _signed_in_redirect(request: Request, svc: Services, token: str, next_path: str) -> Response:
    response = RedirectResponse(safe_next(next_path), status_code=303)
    set_session_cookie(response, token, secure=svc.settings.secure_cookies)
    return response


@router.get("/register")
async def register_form(request: Request, account: MaybeAccount) -> Response:
    if account:
        return RedirectResponse("/", status_code=303)
    return render(request, "register.html", {"form": {}, "title": _("Create your account")})


@router.post("/register")
async def register(
    request: Request,
    svc: ServicesDep,
    _csrf: CsrfChecked,
    username: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=400)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    form = {"username": username, "email": email}
    try:
        await enforce_rate_limit(request, svc, "register", svc.settings.rate_limit_register)
        account = await accounts.register(
            svc.shards, svc.passwords, username=username, email=email, password=password
        )
    except TwoorlError as error:
        return render(
            request,
            "register.html",
            {"form": form, "error": error, "title": _("Create your account")},
            status_code=error.status_code,
        )
    token = await sessions.start_session(
        svc.shards, account, user_agent=request.headers.get("user-agent", ""), ip=client_ip(request)
    )
    return _signed_in_redirect(request, svc, token, "/")


@router.get("/login")
async def login_form(request: Request, account: MaybeAccount, next: str = "/") -> Response:
    if account:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(
        request, "login.html", {"form": {}, "next": safe_next(next), "title": _("Log in")}
    )


@router.post("/login")
async def login(
    request: Request,
    svc: ServicesDep,
    _csrf: CsrfChecked,
    login: Annotated[str, Form(max_length=400)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    try:
        await enforce_rate_limit(request, svc, "login", svc.settings.rate_limit_login)
        account = await accounts.authenticate(
            svc.shards, svc.passwords, login=login, password=password
        )
    except TwoorlError as error:
        return render(
            request,
            "login.html",
            {
                "form": {"login": login},
                "next": safe_next(next),
                "error": error,
                "title": _("Log in"),
            },
            status_code=error.status_code,
        )
    token = await sessions.start_session(
        svc.shards, account, user_agent=request.headers.get("user-agent", ""), ip=client_ip(request)
    )
    return _signed_in_redirect(request, svc, token, next)


@router.post("/logout")
async def logout(request: Request, svc: ServicesDep, _csrf: CsrfChecked) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await sessions.end_session(svc.shards, sessions.hash_token(token))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


async def _settings_page(
    request: Request,
    svc: Services,
    account,
    *,
    error: TwoorlError | None = None,
    notice: str | None = None,
    form: dict | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "settings.html",
        {
            "title": _("Settings"),
            "account": account,
            "form": form or {},
            "error": error,
            "notice": notice,
            "locales": SUPPORTED_LOCALE_CODES,
            "sessions": await sessions.list_sessions(svc.shards, account.id),
            "this_session": getattr(request.state, "session_hash", None),
            "authorized_apps": await oauth.authorized_apps(svc.shards, account.id),
            "blocked_people": await _listed(svc, graph_blocks.blocked_page, account.id),
            "muted_people": await _listed(svc, graph_blocks.muted_page, account.id),
        },
        status_code=status_code,
    )


SETTINGS_LIST_SIZE = 200  # blocked / muted people shown in settings (the API pages them all)


async def _listed(svc: Services, page_of, account_id: int) -> list:
    page = await page_of(svc.shards, account_id, before=None, limit=SETTINGS_LIST_SIZE)
    people = await accounts.get_many(svc.shards, page.account_ids)
    return [people[i] for i in page.account_ids if i in people]


@router.get("/settings")
async def settings_page(request: Request, svc: ServicesDep, account: CurrentAccount) -> Response:
    notice = {"saved": _("Your changes are saved."), "account": _("Your account is updated.")}.get(
        request.query_params.get("done", "")
    )
    return await _settings_page(request, svc, account, notice=notice)


@router.post("/settings/profile")
async def save_profile(
    request: Request,
    svc: ServicesDep,
    account: CurrentAccount,
    _csrf: CsrfChecked,
    display_name: Annotated[str, Form(max_length=500)] = "",
    bio: Annotated[str, Form(max_length=5000)] = "",
    locale: Annotated[str, Form(max_length=20)] = "",
    use_gravatar: Annotated[str | None, Form(max_length=10)] = None,
    profile_color: Annotated[str, Form(max_length=20)] = "#1d9bf0",
) -> Response:
    form = {"display_name": display_name, "bio": bio, "profile_color": profile_color}
    try:
        await accounts.update_profile(
            svc.shards,
            account,
            display_name=display_name,
            bio=bio,
            locale=locale or None,
            use_gravatar=use_gravatar is not None,
            profile_color=profile_color,
        )
    except TwoorlError as error:
        return await _settings_page(
            request, svc, account, error=error, form=form, status_code=error.status_code
        )
    return RedirectResponse("/settings?done=saved", status_code=303)


@router.post("/settings/account")
async def save_account(
    request: Request,
    svc: ServicesDep,
    account: CurrentAccount,
    _csrf: CsrfChecked,
    current_password: Annotated[str, Form(max_length=2000)] = "",
    email: Annotated[str, Form(max_length=400)] = "",
    new_password: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        await accounts.change_credentials(
            svc.shards,
            svc.passwords,
            account,
            current_password=current_password,
            new_email=email or None,
            new_password=new_password or None,
        )
    except TwoorlError as error:
        return await _settings_page(
            request, svc, account, error=error, form={"email": email}, status_code=error.status_code
        )
    if new_password:
        # A new password signs out every other browser that knew the old one, and every app
        # (whoever learned the old password may have logged an app in with it).
        await sessions.end_other_sessions(svc.shards, account.id, request.state.session_hash)
        await oauth.revoke_all(svc.shards, account.id)
    return RedirectResponse("/settings?done=account", status_code=303)


@router.post("/settings/sessions/revoke")
async def revoke_session(
    svc: ServicesDep,
    account: CurrentAccount,
    _csrf: CsrfChecked,
    session: Annotated[str, Form(max_length=64)],
) -> Response:
    await sessions.end_session(svc.shards, session, account_id=account.id)
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/apps/revoke")
async def revoke_authorized_app(
    svc: ServicesDep,
    account: CurrentAccount,
    _csrf: CsrfChecked,
    app_id: Annotated[str, Form(max_length=40)],
) -> Response:
    # Only this account's tokens go: an app id names the app, never whose access it is.
    found = parse_id(app_id)
    if found is not None:
        await oauth.revoke_app(svc.shards, account.id, found)
    return RedirectResponse("/settings", status_code=303)
