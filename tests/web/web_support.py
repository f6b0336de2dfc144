"""Helpers shared by the functional tests (imported by the test modules beside it)."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from twoorl.accounts import service as accounts_service
from twoorl.accounts.tables import accounts
from twoorl.storage.shards import ShardSet


async def send(person, action: str, data: dict[str, str] | None = None) -> httpx.Response:
    """POST a form as a signed-in person, with the CSRF token from a page they can see.

    (The token is stable for a browser, so it is fetched once per person.)"""
    token = getattr(person, "_test_csrf", None)
    if token is None:
        token = await person.csrf("/settings")
        person._test_csrf = token
    return await person.client.post(action, data={"csrf_token": token, **(data or {})})


async def account_id(shards: ShardSet, username: str) -> int:
    account = await accounts_service.get_by_username(shards, username)
    assert account is not None, f"no account @{username}"
    return account.id


async def account_count(shards: ShardSet) -> int:
    async with shards.directory.read() as conn:
        return (await conn.execute(select(func.count()).select_from(accounts))).scalar_one()


async def is_signed_in(person) -> bool:
    """Signed in means both: the header offers "Log out" and /settings answers."""
    home = await person.get("/")
    settings = await person.get("/settings")
    assert home.status_code == 200
    assert settings.status_code in (200, 303)
    signed_in = settings.status_code == 200
    assert ("Log out" in home.text) == signed_in, "header and /settings disagree"
    return signed_in
