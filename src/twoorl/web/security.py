"""Cookies, CSRF and rate limits for the HTML site.

CSRF uses a signed double-submit token: a random value in an HttpOnly cookie, and in every
form an HMAC of it under the server's secret. A cross-site form can neither read the cookie
nor forge the HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response

from twoorl.errors import Forbidden
from twoorl.i18n import _
from twoorl.runtime.http import services

SESSION_COOKIE = "twoorl_session"
CSRF_COOKIE = "twoorl_csrf"
CSRF_FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """The token for forms on this page, minting the cookie on a first visit."""
    seed = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_seed", None)
    if not seed:
        seed = secrets.token_urlsafe(32)
        request.state.new_csrf_seed = seed
    return _sign(services(request).settings.secret_key, seed)


def _sign(secret: str, seed: str) -> str:
    return hmac.new(secret.encode(), seed.encode(), hashlib.sha256).hexdigest()


def set_pending_cookies(request: Request, response: Response) -> None:
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed and CSRF_COOKIE not in request.cookies:
        response.set_cookie(
            CSRF_COOKIE,
            seed,
            httponly=True,
            samesite="lax",
            secure=services(request).settings.secure_cookies,
            max_age=60 * 60 * 24 * 365,
        )


async def verify_csrf(request: Request) -> None:
    """Refuse a state-changing form that does not carry this browser's token."""
    seed = request.cookies.get(CSRF_COOKIE)
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = _sign(services(request).settings.secret_key, seed) if seed else None
    if not (expected and isinstance(sent, str) and hmac.compare_digest(sent, expected)):
        raise Forbidden(
            _(
                "This form has expired or did not come from this site. "
                "Reload the page and try again."
            )
        )


CsrfChecked = Annotated[None, Depends(verify_csrf)]


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=60 * 60 * 24 * 30,
    )
