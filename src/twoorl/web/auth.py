"""Who is making this request: the account behind the session cookie, if any."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request

from twoorl.accounts.models import Account
from twoorl.accounts.sessions import account_for_token
from twoorl.runtime.http import services
from twoorl.web.security import SESSION_COOKIE


async def optional_account(request: Request) -> Account | None:
    if hasattr(request.state, "account"):
        return request.state.account
    account = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        found = await account_for_token(services(request).shards, token)
        if found:
            account, request.state.session_hash = found
    request.state.account = account
    return account


class LoginRequired(HTTPException):
    """Raised for pages that need a signed-in person; answered with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(status_code=303, headers={"Location": f"/login?next={quote(next_path)}"})


async def required_account(request: Request) -> Account:
    account = await optional_account(request)
    if account is None:
        # After login, come back to the page; a form's action is no page to come back to.
        raise LoginRequired(request.url.path if request.method == "GET" else "/")
    return account


MaybeAccount = Annotated[Account | None, Depends(optional_account)]
CurrentAccount = Annotated[Account, Depends(required_account)]


def safe_next(path: str | None, default: str = "/") -> str:
    """Only local paths: ``next=//evil.example`` must not become an open redirect."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return default


def signed_in(request: Request) -> Account | None:
    """The signed-in account, if the request has been through ``optional_account``."""
    return getattr(request.state, "account", None)
