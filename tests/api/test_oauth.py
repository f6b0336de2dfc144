"""OAuth2 over HTTP, as Mastodon clients drive it: the consent page, the token endpoint's three
grants, scopes on every endpoint, revocation, the metadata document, and hashed storage."""

from __future__ import annotations

import base64
import html
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import select

from api_support import ApiUser, anonymous, password_token, register_app
from twoorl.oauth.tables import oauth_apps, oauth_codes, oauth_tokens

OOB = "urn:ietf:wg:oauth:2.0:oob"
CALLBACK = "https://client.example/callback"
HIDDEN_RE = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
CODE_RE = re.compile(r'class="oauth-code-value"[^>]*value="([^"]+)"')
SLOW = pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
ONE_BACKEND = pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)


def authorize_url(client_app: dict, path: str = "/oauth/authorize", **extra: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client_app["client_id"],
        "redirect_uri": client_app["redirect_uri"],
        "scope": "read write",
        **extra,
    }
    return f"{path}?{urlencode(query)}"


def consent_form(page: httpx.Response) -> dict[str, str]:
    """The consent form's hidden fields, as the browser would send them back."""
    assert page.status_code == 200, page.text
    assert 'action="/oauth/authorize"' in page.text
    return {name: html.unescape(value) for name, value in HIDDEN_RE.findall(page.text)}


async def decide(person, url: str, decision: str) -> httpx.Response:
    fields = consent_form(await person.get(url))
    return await person.client.post("/oauth/authorize", data={**fields, "decision": decision})


def redirect_query(response: httpx.Response, target: str) -> dict[str, list[str]]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(target + "?"), location
    return parse_qs(urlsplit(location).query)


async def token_request(app, **fields: str) -> httpx.Response:
    async with anonymous(app) as client:
        return await client.post("/oauth/token", data=fields)


async def exchange(app, client_app: dict, code: str, redirect_uri: str | None = None):
    return await token_request(
        app,
        grant_type="authorization_code",
        client_id=client_app["client_id"],
        client_secret=client_app["client_secret"],
        redirect_uri=redirect_uri or client_app["redirect_uri"],
        code=code,
    )


async def me(app, token: str) -> httpx.Response:
    async with anonymous(app) as client:
        return await client.get(
            "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"}
        )


async def password_grant(app, client_app: dict, login: str, password: str, **extra: str):
    return await token_request(
        app,
        grant_type="password",
        client_id=client_app["client_id"],
        client_secret=client_app["client_secret"],
        username=login,
        password=password,
        **extra,
    )


@pytest.fixture
async def tokens_of(app, people):
    """``await tokens_of("ana", "read")`` gives an ApiUser for ana holding just those scopes."""
    made: list[ApiUser] = []
    registered: dict[str, object] = {}

    async def make(username: str, scopes: str) -> ApiUser:
        if username not in registered:
            registered[username] = await people(username)
        client_app = await register_app(app, scopes)
        token = await password_token(
            app, client_app, username, registered[username].password, scopes
        )
        user = ApiUser(app, username, token, "")
        made.append(user)
        return user

    yield make
    for user in made:
        await user.close()


# The consent page and the authorization code grant


@SLOW
async def test_code_flow_with_a_redirect_uri(app, people) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read write follow", redirect_uris=CALLBACK)
    page = await ana.get(authorize_url(client_app, state="s t&ate"))
    assert client_app["name"] in page.text and "@ana" in page.text
    # No other site may frame the consent page and trick a click on "Authorize".
    assert page.headers["x-frame-options"] == "DENY"
    response = await decide(ana, authorize_url(client_app, state="s t&ate"), "approve")
    query = redirect_query(response, CALLBACK)
    assert query["state"] == ["s t&ate"]
    [code] = query["code"]

    issued = await exchange(app, client_app, code)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == {"read", "write"}
    assert isinstance(body["created_at"], int) and abs(body["created_at"] - time.time()) < 300
    account = await me(app, body["access_token"])
    assert account.status_code == 200, account.text
    assert account.json()["username"] == "ana"

    # A code is good once: a replayed one is refused, and the first token keeps working.
    replay = await exchange(app, client_app, code)
    assert replay.status_code == 400, replay.text
    assert replay.json()["error"] == "invalid_grant"
    assert (await me(app, body["access_token"])).status_code == 200


@SLOW
async def test_out_of_band_flow_tolerates_literal_nothing_values(app, people) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read write")
    # Mastodon.py sends its unset optional parameters as these words, to the slashed path.
    url = authorize_url(
        client_app, path="/oauth/authorize/", force_login="False", state="None", lang="None"
    )
    response = await decide(ana, url, "approve")
    assert response.status_code == 200, response.text
    [code] = CODE_RE.findall(response.text)
    issued = await exchange(app, client_app, code, OOB)
    assert issued.status_code == 200, issued.text
    assert (await me(app, issued.json()["access_token"])).json()["username"] == "ana"


@ONE_BACKEND
async def test_literal_none_state_is_not_sent_back(app, people) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read", redirect_uris=CALLBACK)
    url = authorize_url(client_app, scope="read", state="None", force_login="False")
    query = redirect_query(await decide(ana, url, "approve"), CALLBACK)
    assert set(query) == {"code"}


@ONE_BACKEND
@pytest.mark.parametrize("path", ["/oauth/authorize", "/oauth/authorize/"])
async def test_logged_out_person_logs_in_and_comes_back_to_the_consent_page(
    app, people, path: str
) -> None:
    await people("ana")
    client_app = await register_app(app, "read", redirect_uris=CALLBACK)
    wanted = authorize_url(client_app, path=path, scope="read", state="xyz")
    browser = await people()
    response = await browser.get(wanted)
    assert response.status_code == 303
    login_url = response.headers["location"]
    assert login_url.startswith("/login?next=")
    assert parse_qs(urlsplit(login_url).query)["next"] == [wanted]

    logged_in = await browser.submit(
        "/login",
        {"login": "ana", "password": browser.password, "next": wanted},
        page=login_url,
    )
    assert logged_in.status_code == 303, logged_in.text
    assert logged_in.headers["location"] == wanted
    # ... and the consent page there still carries the client's request.
    fields = consent_form(await browser.get(logged_in.headers["location"]))
    assert fields["client_id"] == client_app["client_id"]
    assert fields["redirect_uri"] == CALLBACK
    assert fields["state"] == "xyz"


@SLOW
async def test_denying_sends_access_denied_and_issues_nothing(app, people, shards) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read", redirect_uris=CALLBACK)
    response = await decide(ana, authorize_url(client_app, scope="read", state="k"), "deny")
    assert redirect_query(response, CALLBACK) == {"error": ["access_denied"], "state": ["k"]}

    oob_app = await register_app(app, "read")
    denied = await decide(ana, authorize_url(oob_app, scope="read"), "deny")
    assert denied.status_code == 200
    assert not CODE_RE.findall(denied.text)
    async with shards.directory.read() as conn:
        assert (await conn.execute(select(oauth_codes))).all() == []


@ONE_BACKEND
async def test_consent_needs_the_forms_csrf_token(app, people, shards) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read", redirect_uris=CALLBACK)
    fields = consent_form(await ana.get(authorize_url(client_app, scope="read")))
    for forged in (
        {**fields, "csrf_token": "0" * 64},
        {k: v for k, v in fields.items() if k != "csrf_token"},
    ):
        response = await ana.client.post("/oauth/authorize", data={**forged, "decision": "approve"})
        assert response.status_code == 403, response.text
        assert "location" not in response.headers
    async with shards.directory.read() as conn:
        assert (await conn.execute(select(oauth_codes))).all() == []


@ONE_BACKEND
@pytest.mark.parametrize(
    "tamper",
    [
        {"redirect_uri": "https://evil.example/steal"},
        {"redirect_uri": CALLBACK + "/../steal"},
        {"client_id": "no-such-client"},
        {"client_id": ""},
    ],
    ids=["foreign-redirect", "lookalike-redirect", "unknown-client", "no-client"],
)
async def test_bad_client_or_redirect_uri_shows_an_error_and_never_redirects(
    app, people, tamper: dict[str, str]
) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read", redirect_uris=CALLBACK)
    url = authorize_url(client_app, scope="read") + "&" + urlencode(tamper)
    # The last of a repeated query parameter wins in Starlette, so the tampered one applies.
    page = await ana.get(url)
    assert page.status_code == 400, page.text
    assert "location" not in page.headers
    assert "text/html" in page.headers["content-type"]
    assert "evil.example" not in page.headers.get("refresh", "")
    assert 'href="https://evil.example' not in page.text
    # A forged consent form is refused the same way.
    fields = consent_form(await ana.get(authorize_url(client_app, scope="read")))
    posted = await ana.client.post(
        "/oauth/authorize", data={**fields, **tamper, "decision": "approve"}
    )
    assert posted.status_code == 400, posted.text
    assert "location" not in posted.headers


@ONE_BACKEND
async def test_consent_cannot_ask_for_more_than_the_app_registered(app, people) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read", redirect_uris=CALLBACK)
    page = await ana.get(authorize_url(client_app, scope="read write"))
    assert page.status_code == 400
    assert "location" not in page.headers
    # A sub-scope of a registered scope is fine.
    assert (await ana.get(authorize_url(client_app, scope="read:accounts"))).status_code == 200


@SLOW
async def test_a_code_is_bound_to_its_app_and_redirect_uri(app, people) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read", redirect_uris=f"{CALLBACK}\n{OOB}")
    other_app = await register_app(app, "read", redirect_uris=CALLBACK)

    async def new_code() -> str:
        url = authorize_url(client_app, scope="read", redirect_uri=CALLBACK)
        return redirect_query(await decide(ana, url, "approve"), CALLBACK)["code"][0]

    stolen = await new_code()
    wrong_app = await exchange(app, other_app, stolen, CALLBACK)
    assert (wrong_app.status_code, wrong_app.json()["error"]) == (400, "invalid_grant")

    code = await new_code()
    wrong_uri = await exchange(app, client_app, code, OOB)
    assert (wrong_uri.status_code, wrong_uri.json()["error"]) == (400, "invalid_grant")

    no_uri = await token_request(
        app,
        grant_type="authorization_code",
        client_id=client_app["client_id"],
        client_secret=client_app["client_secret"],
        code=await new_code(),
    )
    assert (no_uri.status_code, no_uri.json()["error"]) == (400, "invalid_grant")

    good = await exchange(app, client_app, await new_code(), CALLBACK)
    assert good.status_code == 200, good.text


# The password and client credentials grants


@ONE_BACKEND
@pytest.mark.parametrize("login", ["ana", "ANA", "ana@example.org"])
async def test_password_grant_takes_username_or_email(app, people, login: str) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read write")
    response = await password_grant(app, client_app, login, ana.password, scope="read")
    assert response.status_code == 200, response.text
    # JSON clients (toot) send the same fields as a JSON object.
    async with anonymous(app) as client:
        response = await client.post(
            "/oauth/token",
            json={
                "grant_type": "password",
                "client_id": client_app["client_id"],
                "client_secret": client_app["client_secret"],
                "username": login,
                "password": ana.password,
                "scope": "read",
            },
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read"
    assert isinstance(body["created_at"], int)
    assert (await me(app, body["access_token"])).json()["username"] == "ana"


@ONE_BACKEND
async def test_token_endpoint_errors(app, people) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read")

    wrong_password = await password_grant(app, client_app, "ana", "not the password")
    assert wrong_password.status_code == 400
    assert wrong_password.json()["error"] == "invalid_grant"
    nobody = await password_grant(app, client_app, "nobody", ana.password)
    assert (nobody.status_code, nobody.json()["error"]) == (400, "invalid_grant")

    wrong_secret = await password_grant(
        app, {**client_app, "client_secret": "x" * 43}, "ana", ana.password
    )
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"
    unknown_client = await password_grant(
        app, {**client_app, "client_id": "x" * 43}, "ana", ana.password
    )
    assert (unknown_client.status_code, unknown_client.json()["error"]) == (401, "invalid_client")

    unsupported = await token_request(
        app,
        grant_type="implicit",
        client_id=client_app["client_id"],
        client_secret=client_app["client_secret"],
    )
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"

    too_much = await password_grant(app, client_app, "ana", ana.password, scope="read write")
    assert (too_much.status_code, too_much.json()["error"]) == (400, "invalid_scope")
    unknown_scope = await password_grant(app, client_app, "ana", ana.password, scope="admin:read")
    assert unknown_scope.status_code in (400, 422)
    assert unknown_scope.json()["error"] == "invalid_scope"


@ONE_BACKEND
async def test_client_may_authenticate_with_http_basic(app, people) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read")
    basic = base64.b64encode(
        f"{client_app['client_id']}:{client_app['client_secret']}".encode()
    ).decode()
    async with anonymous(app) as client:
        response = await client.post(
            "/oauth/token",
            data={"grant_type": "password", "username": "ana", "password": ana.password},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert response.status_code == 200, response.text
        wrong = base64.b64encode(f"{client_app['client_id']}:nope".encode()).decode()
        refused = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {wrong}"},
        )
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"
        garbage = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic %%%not-base64"},
        )
        assert garbage.status_code == 401
    assert (await me(app, response.json()["access_token"])).status_code == 200


@ONE_BACKEND
async def test_app_token_acts_for_nobody(app, people) -> None:
    await people("ana")
    client_app = await register_app(app, "read write")
    response = await token_request(
        app,
        grant_type="client_credentials",
        client_id=client_app["client_id"],
        client_secret=client_app["client_secret"],
        scope="read",
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert response.json()["scope"] == "read"
    user_only = await me(app, token)
    assert user_only.status_code == 422
    assert "error" in user_only.json()
    async with anonymous(app) as client:
        headers = {"Authorization": f"Bearer {token}"}
        # Public reads still work with it.
        assert (await client.get("/api/v1/timelines/public", headers=headers)).status_code == 200
        posted = await client.post("/api/v1/statuses", data={"status": "hi"}, headers=headers)
        assert posted.status_code in (403, 422), posted.text


# Scopes on endpoints


@SLOW
async def test_scopes_are_enforced_per_endpoint(tokens_of, people) -> None:
    bob = await people("bob")
    assert bob

    reader = await tokens_of("ana", "read")
    refused = await reader.post("/api/v1/statuses", data={"status": "hello"})
    assert refused.status_code == 403, refused.text
    assert "error" in refused.json()
    assert (await reader.get("/api/v1/timelines/home")).status_code == 200

    poster = await tokens_of("ana", "write:statuses")
    posted = await poster.post("/api/v1/statuses", data={"status": "hello"})
    assert posted.status_code == 200, posted.text
    assert (await poster.get("/api/v1/timelines/home")).status_code == 403
    assert (await poster.get("/api/v1/accounts/verify_credentials")).status_code == 403
    bob_id = (await reader.get("/api/v1/accounts/lookup", params={"acct": "bob"})).json()["id"]
    assert (await poster.post(f"/api/v1/accounts/{bob_id}/follow")).status_code == 403

    # ``follow`` is the old name that covers following people.
    follower = await tokens_of("ana", "follow")
    followed = await follower.post(f"/api/v1/accounts/{bob_id}/follow")
    assert followed.status_code == 200, followed.text
    assert followed.json()["following"] is True
    assert (await follower.post("/api/v1/statuses", data={"status": "x"})).status_code == 403

    accounts_only = await tokens_of("ana", "read:accounts")
    assert (await accounts_only.get("/api/v1/accounts/verify_credentials")).status_code == 200
    assert (await accounts_only.get("/api/v1/timelines/home")).status_code == 403

    pusher = await tokens_of("ana", "push")
    assert (await pusher.get("/api/v1/accounts/verify_credentials")).status_code == 403


@ONE_BACKEND
async def test_missing_bad_and_revoked_tokens_are_401(app, people) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read")
    token = (await password_grant(app, client_app, "ana", ana.password)).json()["access_token"]
    async with anonymous(app) as client:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer "}):
            response = await client.get("/api/v1/accounts/verify_credentials", headers=headers)
            assert response.status_code == 401, (headers, response.text)
            assert isinstance(response.json()["error"], str)

        revoked = await client.post(
            "/oauth/revoke",
            data={
                "client_id": client_app["client_id"],
                "client_secret": client_app["client_secret"],
                "token": token,
            },
        )
        assert revoked.status_code == 200, revoked.text
        assert revoked.json() == {}
    after = await me(app, token)
    assert after.status_code == 401
    assert "error" in after.json()


@ONE_BACKEND
async def test_an_app_revokes_only_its_own_tokens(app, people) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read")
    other_app = await register_app(app, "read")
    token = (await password_grant(app, client_app, "ana", ana.password)).json()["access_token"]
    async with anonymous(app) as client:
        revoke = {"token": token}
        foreign = await client.post(
            "/oauth/revoke",
            data={
                **revoke,
                "client_id": other_app["client_id"],
                "client_secret": other_app["client_secret"],
            },
        )
        # RFC 7009: the answer does not tell whether the token existed...
        assert foreign.status_code == 200
        # ... but another app's token is not this app's to revoke.
        assert (await me(app, token)).status_code == 200
        unauthenticated = await client.post("/oauth/revoke", data=revoke)
        assert unauthenticated.status_code == 401
        assert unauthenticated.json()["error"] == "invalid_client"
    assert (await me(app, token)).status_code == 200


# What the server says about itself, and what it keeps


@ONE_BACKEND
async def test_authorization_server_metadata(app) -> None:
    base = "https://testserver"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as client:
        response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["issuer"] in (base, base + "/")
    assert body["authorization_endpoint"] == f"{base}/oauth/authorize"
    assert body["token_endpoint"] == f"{base}/oauth/token"
    assert body["revocation_endpoint"] == f"{base}/oauth/revoke"
    assert body["app_registration_endpoint"] == f"{base}/api/v1/apps"
    assert set(body["grant_types_supported"]) == {
        "authorization_code",
        "password",
        "client_credentials",
    }
    assert body["response_types_supported"] == ["code"]
    # Only the query response mode is implemented: claiming others would mislead clients.
    assert body["response_modes_supported"] == ["query"]
    assert {"read", "write", "follow", "push", "read:accounts", "write:statuses"} <= set(
        body["scopes_supported"]
    )
    assert set(body["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    # Over plain http there is no document (RFC 8414 issuers are https), as a JSON 404.
    async with anonymous(app) as client:
        insecure = await client.get("/.well-known/oauth-authorization-server")
    assert insecure.status_code == 404
    assert "error" in insecure.json()


@SLOW
async def test_secrets_codes_and_tokens_are_stored_hashed(app, people, shards) -> None:
    ana = await people("ana")
    client_app = await register_app(app, "read", redirect_uris=CALLBACK)
    url = authorize_url(client_app, scope="read")
    code = redirect_query(await decide(ana, url, "approve"), CALLBACK)["code"][0]

    async def stored() -> str:
        async with shards.directory.read() as conn:
            rows = [
                *(await conn.execute(select(oauth_apps))).all(),
                *(await conn.execute(select(oauth_codes))).all(),
                *(await conn.execute(select(oauth_tokens))).all(),
            ]
        return repr(rows)

    before_exchange = await stored()
    assert code not in before_exchange
    assert client_app["client_secret"] not in before_exchange
    token = (await exchange(app, client_app, code)).json()["access_token"]
    password = (await password_grant(app, client_app, "ana", ana.password)).json()
    everything = await stored()
    assert token not in everything
    assert password["access_token"] not in everything
    assert client_app["client_secret"] not in everything
    async with shards.directory.read() as conn:
        assert len((await conn.execute(select(oauth_tokens))).all()) == 2
