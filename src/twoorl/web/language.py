"""The footer's language chooser: works signed out (a cookie) and signed in (the setting)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from twoorl.accounts import service as accounts
from twoorl.errors import InvalidInput
from twoorl.i18n import LOCALES, _
from twoorl.i18n.negotiation import LANG_COOKIE
from twoorl.runtime.http import ServicesDep
from twoorl.web.auth import MaybeAccount, safe_next
from twoorl.web.security import CsrfChecked

router = APIRouter()


@router.post("/language")
async def choose_language(
    svc: ServicesDep,
    account: MaybeAccount,
    _csrf: CsrfChecked,
    locale: Annotated[str, Form(max_length=20)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if locale not in LOCALES:
        raise InvalidInput(_("Choose a language from the list."))
    if account is not None:
        # A signed-in person's setting wins over the cookie, so the chooser changes it.
        await accounts.update_profile(
            svc.shards,
            account,
            display_name=account.display_name,
            bio=account.bio,
            locale=locale,
            use_gravatar=account.use_gravatar,
            profile_color=account.profile_color,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        locale,
        max_age=60 * 60 * 24 * 365,
        samesite="lax",
        secure=svc.settings.secure_cookies,
    )
    return response
