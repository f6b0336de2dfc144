"""``/api/v1/accounts`` over HTTP: the signed-in account, profiles, their posts, followers and
following with paging, follows and relationships; every entity checked against Mastodon's."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from api_support import anonymous, register_app
from twoorl.accounts import service as accounts_service

# https://docs.joinmastodon.org/entities/Account/ (attributes up to 4.2, optional ones aside).
ACCOUNT_FIELDS = {
    "id",
    "username",
    "acct",
    "url",
    "uri",
    "display_name",
    "note",
    "avatar",
    "avatar_static",
    "header",
    "header_static",
    "locked",
    "fields",
    "emojis",
    "bot",
    "group",
    "discoverable",
    "created_at",
    "last_status_at",
    "statuses_count",
    "followers_count",
    "following_count",
}
SOURCE_FIELDS = {"note", "fields", "privacy", "sensitive", "language", "follow_requests_count"}
ROLE_FIELDS = {"id", "name", "color", "permissions", "highlighted"}
RELATIONSHIP_FIELDS = {
    "id",
    "following",
    "showing_reblogs",
    "notifying",
    "languages",
    "followed_by",
    "blocking",
    "blocked_by",
    "muting",
    "muting_notifications",
    "requested",
    "requested_by",
    "domain_blocking",
    "endorsed",
    "note",
}
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LINK_RE = re.compile(r'<([^>]+)>; rel="(\w+)"')
SLOW = pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
ONE_BACKEND = pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)


def links(response: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in LINK_RE.findall(response.headers.get("link", ""))}


def path_of(url: str) -> str:
    """A Link URL as a path for the test client (it is absolute, on this site)."""
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.netloc == "testserver", url
    return f"{parts.path}?{parts.query}"


async def assert_account(client: httpx.AsyncClient, account: dict, username: str) -> None:
    missing = ACCOUNT_FIELDS - account.keys()
    assert not missing, f"missing account fields: {sorted(missing)}"
    assert account["id"].isdigit()
    assert account["username"] == account["acct"] == username
    assert account["url"] == f"http://testserver/@{username}"
    assert DATETIME_RE.match(account["created_at"]), account["created_at"]
    assert account["last_status_at"] is None or DATE_RE.match(account["last_status_at"])
    for name in ("statuses_count", "followers_count", "following_count"):
        assert isinstance(account[name], int) and account[name] >= 0
    for name in ("locked", "bot", "group"):
        assert account[name] is False
    assert account["fields"] == [] and account["emojis"] == []
    for name in ("avatar", "avatar_static", "header", "header_static"):
        url = account[name]
        assert url.startswith(("http://", "https://")), (name, url)
        if url.startswith("http://testserver/"):
            # The image is really there: clients show it without a second thought.
            image = await client.get(url)
            assert image.status_code == 200, (name, url)
            assert image.headers["content-type"].startswith("image/")


# The signed-in account


@ONE_BACKEND
async def test_verify_credentials_is_a_credential_account(app, api_users) -> None:
    ana = await api_users("ana")
    response = await ana.get("/api/v1/accounts/verify_credentials")
    assert response.status_code == 200, response.text
    body = response.json()
    await assert_account(ana.client, body, "ana")
    assert body["source"].keys() >= SOURCE_FIELDS
    assert body["role"].keys() >= ROLE_FIELDS
    assert body["source"]["privacy"] == "public"
    assert body["source"]["follow_requests_count"] == 0
    assert body["id"] == ana.id


@SLOW
async def test_update_credentials_by_form_and_json(app, api_users) -> None:
    ana = await api_users("ana")
    form = await ana.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Ana Lima", "note": "hi #tea\nbye", "source[language]": "de"},
    )
    assert form.status_code == 200, form.text
    body = form.json()
    assert body["display_name"] == "Ana Lima"
    assert body["source"]["note"] == "hi #tea\nbye"
    assert body["note"].startswith("<p>") and "/tags/tea" in body["note"]
    assert body["source"]["language"] == "de"
    assert (await ana.get("/api/v1/accounts/verify_credentials")).json()["display_name"] == (
        "Ana Lima"
    )

    # JSON clients send ``source`` as a nested object; the web pages speak the new language.
    by_json = await ana.patch(
        "/api/v1/accounts/update_credentials",
        json={"note": "plain", "source": {"language": "es"}},
    )
    assert by_json.status_code == 200, by_json.text
    body = by_json.json()
    assert body["display_name"] == "Ana Lima"  # what is not sent stays as it was
    assert body["source"]["note"] == "plain"
    assert body["source"]["language"] == "es"


@ONE_BACKEND
@pytest.mark.parametrize(
    ("sent", "stored"), [("pt", "pt_BR"), ("pt-BR", "pt_BR"), ("zh", "zh_Hans")]
)
async def test_source_language_is_iso_639_1(app, api_users, shards, sent: str, stored: str) -> None:
    """Mastodon speaks ISO 639-1 (``pt``); Twoorl's locale may be regional (``pt_BR``): the
    web pages get the regional one, a client reads back the language it knows."""
    ana = await api_users("ana")
    response = await ana.patch(
        "/api/v1/accounts/update_credentials", data={"source[language]": sent}
    )
    assert response.status_code == 200, response.text
    assert (await accounts_service.get_by_id(shards, int(ana.id))).locale == stored
    assert response.json()["source"]["language"] == sent.split("-")[0]
    again = await ana.get("/api/v1/accounts/verify_credentials")
    assert again.json()["source"]["language"] == sent.split("-")[0]


@ONE_BACKEND
@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"data": {"display_name": "x" * 51}},
        {"data": {"note": "x" * 20_000}},
        {"data": {"source[language]": "tlh"}},
        {"json": {"source": {"language": "xx"}}},
        {"json": {"display_name": ["a", "list"]}},
        {"json": {"source": "de"}},
    ],
    ids=["long-name", "long-note", "unknown-language", "json-language", "list", "flat-source"],
)
async def test_update_credentials_refuses_bad_values(app, api_users, request_kwargs: dict) -> None:
    ana = await api_users("ana")
    response = await ana.patch("/api/v1/accounts/update_credentials", **request_kwargs)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["error"], str)
    unchanged = (await ana.get("/api/v1/accounts/verify_credentials")).json()
    assert unchanged["display_name"] == ""
    assert unchanged["source"]["note"] == ""


# Profiles


@SLOW
async def test_account_by_id_and_lookup(app, api_users) -> None:
    ana = await api_users("ana")
    await ana.status("first")
    bob = await api_users("bob")
    async with anonymous(app) as nobody:
        public = await nobody.get(f"/api/v1/accounts/{ana.id}")
        assert public.status_code == 200, public.text
        body = public.json()
        await assert_account(nobody, body, "ana")
        assert body["statuses_count"] == 1
        assert DATE_RE.match(body["last_status_at"])
        assert (await bob.get(f"/api/v1/accounts/{ana.id}")).json() == body

        for acct in ("ana", "@ana", "ANA", "ana@testserver", "@ana@TestServer"):
            found = await nobody.get("/api/v1/accounts/lookup", params={"acct": acct})
            assert found.status_code == 200, (acct, found.text)
            assert found.json()["id"] == ana.id
        for acct in ("nobody", "ana@elsewhere.example", "", "a/../b"):
            missing = await nobody.get("/api/v1/accounts/lookup", params={"acct": acct})
            assert missing.status_code == 404, (acct, missing.text)
            assert isinstance(missing.json()["error"], str)
        for account_id in ("1", "0", "abc", "9" * 30, str(int(ana.id) + 1)):
            gone = await nobody.get(f"/api/v1/accounts/{account_id}")
            assert gone.status_code == 404, (account_id, gone.text)
            assert "error" in gone.json()


@SLOW
async def test_account_statuses_filters_and_pages(app, api_users) -> None:
    ana = await api_users("ana")
    bob = await api_users("bob")
    bobs = await bob.status("bob here")
    first = await ana.status("one")
    to_bob = await ana.status("@bob hello", in_reply_to_id=bobs["id"])
    to_self = await ana.status("two, continued", in_reply_to_id=first["id"])
    reblog = (await ana.post(f"/api/v1/statuses/{bobs['id']}/reblog")).json()
    last = await ana.status("three")
    everything = [last["id"], reblog["id"], to_self["id"], to_bob["id"], first["id"]]

    async def ids(**params: str) -> list[str]:
        response = await bob.get(f"/api/v1/accounts/{ana.id}/statuses", params=params)
        assert response.status_code == 200, response.text
        return [status["id"] for status in response.json()]

    assert await ids() == everything
    # Replies to others go; a thread of one's own stays (as on Mastodon).
    assert await ids(exclude_replies="true") == [
        last["id"],
        reblog["id"],
        to_self["id"],
        first["id"],
    ]
    assert await ids(exclude_reblogs="1") == [
        last["id"],
        to_self["id"],
        to_bob["id"],
        first["id"],
    ]
    assert await ids(pinned="true") == []
    assert await ids(exclude_replies="false", exclude_reblogs="false") == everything

    # Paging by the Link header walks everything once, newest first.
    seen: list[str] = []
    path = f"/api/v1/accounts/{ana.id}/statuses?limit=2&exclude_reblogs=true"
    for _page in range(5):
        response = await bob.get(path)
        seen += [status["id"] for status in response.json()]
        following = links(response)
        if "next" not in following:
            break
        assert "exclude_reblogs=true" in following["next"]  # filters carry over
        path = path_of(following["next"])
    assert seen == [last["id"], to_self["id"], to_bob["id"], first["id"]]
    newest = await bob.get(f"/api/v1/accounts/{ana.id}/statuses?limit=2")
    prev = links(newest)["prev"]
    assert parse_qs(urlsplit(prev).query)["min_id"] == [last["id"]]

    missing = await bob.get("/api/v1/accounts/12345/statuses")
    assert missing.status_code == 404


@SLOW
async def test_followers_and_following_page_with_link_headers(app, api_users) -> None:
    ana = await api_users("ana")
    fans = [await api_users(name) for name in ("bob", "carl", "dora")]
    for fan in fans:
        response = await fan.post(f"/api/v1/accounts/{ana.id}/follow")
        assert response.status_code == 200, response.text
    await ana.post(f"/api/v1/accounts/{fans[0].id}/follow")

    async def walk(path: str) -> list[str]:
        seen: list[str] = []
        for _page in range(5):
            response = await ana.get(path)
            assert response.status_code == 200, response.text
            for account in response.json():
                assert account.keys() >= ACCOUNT_FIELDS
            seen += [account["username"] for account in response.json()]
            if "next" not in links(response):
                return seen
            path = path_of(links(response)["next"])
        raise AssertionError(f"too many pages: {seen}")

    followers = await walk(f"/api/v1/accounts/{ana.id}/followers?limit=2")
    assert sorted(followers) == ["bob", "carl", "dora"]
    assert len(set(followers)) == 3
    assert await walk(f"/api/v1/accounts/{ana.id}/following?limit=2") == ["bob"]
    assert await walk(f"/api/v1/accounts/{fans[0].id}/following") == ["ana"]
    assert await walk(f"/api/v1/accounts/{fans[1].id}/followers") == []
    profile = (await ana.get(f"/api/v1/accounts/{ana.id}")).json()
    assert (profile["followers_count"], profile["following_count"]) == (3, 1)
    assert (await ana.get("/api/v1/accounts/424242/followers")).status_code == 404


# Follows and relationships


@SLOW
async def test_follow_unfollow_and_relationships(app, api_users) -> None:
    ana = await api_users("ana")
    bob = await api_users("bob")
    carl = await api_users("carl")

    followed = await ana.post(f"/api/v1/accounts/{bob.id}/follow")
    assert followed.status_code == 200, followed.text
    relationship = followed.json()
    assert relationship.keys() >= RELATIONSHIP_FIELDS
    assert relationship["id"] == bob.id
    assert relationship["following"] is True and relationship["followed_by"] is False
    again = await ana.post(f"/api/v1/accounts/{bob.id}/follow")
    assert again.status_code == 200 and again.json()["following"] is True
    await bob.post(f"/api/v1/accounts/{ana.id}/follow")

    response = await ana.get(
        "/api/v1/accounts/relationships", params=[("id[]", bob.id), ("id[]", carl.id)]
    )
    assert response.status_code == 200, response.text
    by_id = {r["id"]: r for r in response.json()}
    assert [r["id"] for r in response.json()] == [bob.id, carl.id]
    assert by_id[bob.id]["following"] is True and by_id[bob.id]["followed_by"] is True
    assert by_id[carl.id]["following"] is False and by_id[carl.id]["followed_by"] is False
    single = await bob.get("/api/v1/accounts/relationships", params={"id": ana.id})
    assert single.json()[0]["following"] is True and single.json()[0]["followed_by"] is True

    unfollowed = await ana.post(f"/api/v1/accounts/{bob.id}/unfollow")
    assert unfollowed.status_code == 200, unfollowed.text
    assert unfollowed.json()["following"] is False
    assert unfollowed.json()["followed_by"] is True
    after = (await bob.get("/api/v1/accounts/relationships", params={"id[]": ana.id})).json()
    assert after[0]["followed_by"] is False
    assert (await bob.get(f"/api/v1/accounts/{bob.id}/followers")).json() == []


@ONE_BACKEND
async def test_following_nobody_or_oneself_is_refused(app, api_users) -> None:
    ana = await api_users("ana")
    missing = await ana.post("/api/v1/accounts/777/follow")
    assert missing.status_code == 404
    assert "error" in missing.json()
    myself = await ana.post(f"/api/v1/accounts/{ana.id}/follow")
    assert myself.status_code == 422, myself.text
    assert myself.json()["error"] == "You cannot follow yourself."
    unfollow_missing = await ana.post("/api/v1/accounts/777/unfollow")
    assert unfollow_missing.status_code == 404
    async with anonymous(app) as nobody:
        assert (await nobody.post(f"/api/v1/accounts/{ana.id}/follow")).status_code == 401
        assert (await nobody.get("/api/v1/accounts/relationships")).status_code == 401


async def _app_token(app, scopes: str = "read write follow") -> str:
    client_app = await register_app(app, scopes)
    async with anonymous(app) as client:
        response = await client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_app["client_id"],
                "client_secret": client_app["client_secret"],
                "scope": scopes,
            },
        )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
async def test_an_app_signs_a_person_up_and_gets_their_token(app, shards):
    app_token = await _app_token(app)
    async with anonymous(app) as client:
        signup = {
            "username": "newbie",
            "email": "newbie@example.org",
            "password": "a long enough secret",
            "locale": "pt",
        }
        refused = await client.post(
            "/api/v1/accounts", data=signup, headers={"Authorization": f"Bearer {app_token}"}
        )
        assert refused.status_code == 422, refused.text  # no agreement to the rules
        made = await client.post(
            "/api/v1/accounts",
            data={**signup, "agreement": "true"},
            headers={"Authorization": f"Bearer {app_token}"},
        )
        assert made.status_code == 200, made.text
        token = made.json()["access_token"]
        assert made.json()["scope"] == "follow read write"
        me = await client.get(
            "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"}
        )
        assert me.json()["username"] == "newbie"
        assert me.json()["source"]["language"] == "pt"
        taken = await client.post(
            "/api/v1/accounts",
            data={**signup, "agreement": "true"},
            headers={"Authorization": f"Bearer {app_token}"},
        )
        assert taken.status_code == 422, taken.text
        # A person's token is no sign-up form.
        again = await client.post(
            "/api/v1/accounts",
            data={**signup, "username": "other", "agreement": "true"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert again.status_code == 403, again.text
    assert await accounts_service.get_by_username(shards, "other") is None
