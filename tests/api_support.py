"""Helpers for the API tests: people who use the API through a token of their own."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx

DEFAULT_SCOPES = "read write follow push"

# Every field of Mastodon's Status entity, and those only a signed-in viewer gets.
STATUS_FIELDS = {
    "id",
    "uri",
    "url",
    "created_at",
    "account",
    "content",
    "visibility",
    "sensitive",
    "spoiler_text",
    "media_attachments",
    "application",
    "mentions",
    "tags",
    "emojis",
    "reblogs_count",
    "favourites_count",
    "replies_count",
    "in_reply_to_id",
    "in_reply_to_account_id",
    "reblog",
    "poll",
    "card",
    "language",
    "text",
    "edited_at",
}
VIEWER_FIELDS = {"favourited", "reblogged", "muted", "bookmarked", "pinned"}
MASTODON_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class ApiUser:
    """An API client acting for one account: a bearer token and its own HTTP client. Each
    response is followed by draining the job queue, so tests see what a client would see a
    moment later."""

    def __init__(self, app, username: str, token: str, account_id: str) -> None:
        self.app = app
        self.username = username
        self.token = token
        self.id = account_id

        async def drain(_response: httpx.Response) -> None:
            await app.state.services.worker.drain()

        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {token}"},
            event_hooks={"response": [drain]},
        )

    async def get(self, path: str, **kwargs) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def post(self, path: str, **kwargs) -> httpx.Response:
        return await self.client.post(path, **kwargs)

    async def delete(self, path: str, **kwargs) -> httpx.Response:
        return await self.client.delete(path, **kwargs)

    async def patch(self, path: str, **kwargs) -> httpx.Response:
        return await self.client.patch(path, **kwargs)

    async def status(self, text: str, **fields) -> dict:
        response = await self.post("/api/v1/statuses", data={"status": text, **fields})
        assert response.status_code == 200, response.text
        return response.json()

    async def close(self) -> None:
        await self.client.aclose()


def anonymous(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def register_app(
    app, scopes: str = DEFAULT_SCOPES, redirect_uris: str = "urn:ietf:wg:oauth:2.0:oob"
) -> dict:
    async with anonymous(app) as client:
        response = await client.post(
            "/api/v1/apps",
            data={"client_name": "test client", "redirect_uris": redirect_uris, "scopes": scopes},
        )
    assert response.status_code == 200, response.text
    return response.json()


async def password_token(
    app, client_app: dict, login: str, password: str, scopes: str = DEFAULT_SCOPES
) -> str:
    async with anonymous(app) as client:
        response = await client.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": client_app["client_id"],
                "client_secret": client_app["client_secret"],
                "username": login,
                "password": password,
                "scope": scopes,
            },
        )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def api_user(app, people, username: str, scopes: str = DEFAULT_SCOPES) -> ApiUser:
    """Registers ``username`` through the web pages, then logs in an API client for them."""
    _person, user = await web_and_api_user(app, people, username, scopes)
    return user


async def web_and_api_user(app, people, username: str, scopes: str = DEFAULT_SCOPES):
    """A new person signed in on the web (a ``Person``) and holding an API token."""
    person = await people(username)
    client_app = await register_app(app, scopes)
    token = await password_token(app, client_app, username, person.password, scopes)
    user = ApiUser(app, username, token, "")
    me = await user.get("/api/v1/accounts/verify_credentials")
    if me.status_code == 200:
        user.id = me.json()["id"]
    return person, user


MakeUser = Callable[..., Awaitable[ApiUser]]  # the ``api_users`` fixture
