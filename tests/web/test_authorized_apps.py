"""The "Authorized apps" part of /settings: which API clients can use one's account, and taking
that access back (the app's tokens then get 401)."""

from __future__ import annotations

import re

import httpx
import pytest

ONE_BACKEND = pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
APP_ROW_RE = re.compile(r"<li>(.*?)</li>", re.S)
REVOKE_RE = re.compile(r'name="app_id" value="(\d+)"')


def anonymous(app) -> httpx.AsyncClient:
    """An API client without a token (an app registering itself, asking for one)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def register_client(app, name: str, website: str | None = None) -> dict:
    fields = {
        "client_name": name,
        "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": "read write",
    }
    if website:
        fields["website"] = website
    async with anonymous(app) as client:
        response = await client.post("/api/v1/apps", data=fields)
    assert response.status_code == 200, response.text
    return response.json()


async def token_for(app, client_app: dict, person, scope: str = "read write") -> str:
    async with anonymous(app) as client:
        response = await client.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": client_app["client_id"],
                "client_secret": client_app["client_secret"],
                "username": person.username,
                "password": person.password,
                "scope": scope,
            },
        )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def api_status(app, token: str) -> int:
    async with anonymous(app) as client:
        response = await client.get(
            "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"}
        )
    return response.status_code


def app_rows(settings_html: str) -> list[str]:
    """The rows of the authorized-apps list (empty when the page says there are none)."""
    start = settings_html.index("<h2>Authorized apps</h2>")
    end = settings_html.index("</section>", start)
    return APP_ROW_RE.findall(settings_html[start:end])


async def revoke(person, app_id: str, *, csrf: str | None = None) -> httpx.Response:
    token = csrf if csrf is not None else await person.csrf("/settings")
    return await person.client.post(
        "/settings/apps/revoke", data={"csrf_token": token, "app_id": app_id}
    )


async def test_settings_list_authorized_apps_and_revoke_one(app, people) -> None:
    ana = await people("ana")
    tusky = await register_client(app, "Tusky", "https://tusky.app")
    toot = await register_client(app, "Toot!")
    tusky_tokens = [await token_for(app, tusky, ana), await token_for(app, tusky, ana, "read")]
    toot_token = await token_for(app, toot, ana, "read")
    # An app's own token (client credentials) acts for nobody, so it is nobody's authorized app.
    async with anonymous(app) as client:
        own = await client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": toot["client_id"],
                "client_secret": toot["client_secret"],
            },
        )
    assert own.status_code == 200

    page = await ana.get("/settings")
    assert page.status_code == 200
    rows = app_rows(page.text)
    assert len(rows) == 2
    [tusky_row] = [row for row in rows if "Tusky" in row]
    [toot_row] = [row for row in rows if "Toot!" in row]
    assert '<a href="https://tusky.app" rel="nofollow noopener noreferrer">' in tusky_row
    assert "read write" in tusky_row
    assert "write" not in toot_row.split("Access:")[1].split("<")[0]
    assert "just now" in tusky_row  # authorized and last used a moment ago
    assert REVOKE_RE.findall(tusky_row) == [tusky["id"]]
    assert 'action="/settings/apps/revoke"' in tusky_row and 'name="csrf_token"' in tusky_row

    response = await revoke(ana, tusky["id"])
    assert response.status_code == 303
    assert response.headers["location"] == "/settings"
    for token in tusky_tokens:
        assert await api_status(app, token) == 401
    assert await api_status(app, toot_token) == 200
    after = app_rows((await ana.get("/settings")).text)
    assert len(after) == 1 and "Toot!" in after[0]

    # Authorizing again later is a fresh start.
    assert await api_status(app, await token_for(app, tusky, ana)) == 200


@ONE_BACKEND
async def test_no_authorized_apps(app, people) -> None:
    ana = await people("ana")
    page = await ana.get("/settings")
    assert app_rows(page.text) == []
    assert "No apps can use your account." in page.text


@ONE_BACKEND
async def test_revoking_needs_the_forms_csrf_token(app, people) -> None:
    ana = await people("ana")
    client_app = await register_client(app, "Tusky")
    token = await token_for(app, client_app, ana)
    for forged in ("", "0" * 64):
        response = await revoke(ana, client_app["id"], csrf=forged)
        assert response.status_code == 403
    assert await api_status(app, token) == 200
    assert len(app_rows((await ana.get("/settings")).text)) == 1


@ONE_BACKEND
async def test_revoking_touches_only_ones_own_account(app, people) -> None:
    ana = await people("ana")
    bob = await people("bob")
    client_app = await register_client(app, "Tusky")
    anas = await token_for(app, client_app, ana)
    bobs = await token_for(app, client_app, bob)

    response = await revoke(bob, client_app["id"])
    assert response.status_code == 303
    assert await api_status(app, bobs) == 401
    assert await api_status(app, anas) == 200
    assert len(app_rows((await ana.get("/settings")).text)) == 1

    # Nonsense and unknown ids change nothing either.
    for app_id in ("not-a-number", "12345"):
        assert (await revoke(ana, app_id)).status_code == 303
    assert await api_status(app, anas) == 200


@ONE_BACKEND
async def test_signed_out_revoke_goes_to_login(app, people) -> None:
    ana = await people("ana")
    client_app = await register_client(app, "Tusky")
    token = await token_for(app, client_app, ana)
    stranger = await people()
    response = await stranger.client.post(
        "/settings/apps/revoke",
        data={"csrf_token": await stranger.csrf("/login"), "app_id": client_app["id"]},
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert await api_status(app, token) == 200


@ONE_BACKEND
async def test_a_new_password_signs_every_app_out(app, people):
    # Whoever knew the old password may have logged an app in with it.
    ana = await people("ana")
    token = await token_for(app, await register_client(app, "Old phone"), ana)
    assert await api_status(app, token) == 200
    changed = await ana.submit(
        "/settings/account",
        {
            "current_password": ana.password,
            "email": "ana@example.org",
            "new_password": "a much newer secret",
        },
        page="/settings",
    )
    assert changed.status_code == 303, changed.text
    assert await api_status(app, token) == 401
