"""How the API says no: JSON ``{"error": ...}`` with the right status, rate-limit headers on
every answer, 429 past the limit, and tokens that cannot touch other people's things."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from api_support import anonymous
from conftest import close_app, forget_redis_prefix
from twoorl.app import create_app
from twoorl.posts.service import get_post

ISO_8601_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# Windows are aligned to the clock: a day-long one is never crossed within a test.
RATE_LIMITED = {"rate_limit_api": "3/day"}
ONE_BACKEND = pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)


def assert_json_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error, str) and error
    assert "<" not in error  # a message, never a page
    return error


def reset_time(response: httpx.Response) -> datetime:
    value = response.headers["X-RateLimit-Reset"]
    assert ISO_8601_RE.match(value), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_rate_limit_headers(response: httpx.Response) -> None:
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert name in response.headers, (response.request.url, response.status_code, name)
    assert int(response.headers["X-RateLimit-Limit"]) > 0
    assert (
        0
        <= int(response.headers["X-RateLimit-Remaining"])
        < int(response.headers["X-RateLimit-Limit"])
    )
    assert reset_time(response) > datetime.now(UTC)


# Error answers


@ONE_BACKEND
async def test_errors_are_json_with_the_right_status(app, api_users) -> None:
    ana = await api_users("ana")
    reader = await api_users("bob", scopes="read")
    async with anonymous(app) as nobody:
        assert_json_error(await nobody.get("/api/v1/accounts/verify_credentials"), 401)
        bad_token = {"Authorization": "Bearer not-a-token"}
        assert_json_error(await nobody.get("/api/v1/timelines/public", headers=bad_token), 401)
        assert_json_error(await nobody.get("/api/v1/no/such/thing"), 404)
        assert_json_error(await nobody.delete("/api/v1/instance"), 405)
    assert_json_error(await reader.post("/api/v1/statuses", data={"status": "x"}), 403)
    assert_json_error(await ana.get("/api/v1/accounts/31337"), 404)
    assert_json_error(await ana.get("/api/v1/statuses/31337"), 404)
    assert_json_error(await ana.post("/api/v1/statuses", data={"status": ""}), 422)
    assert_json_error(await ana.get("/api/v1/timelines/home", params={"max_id": "x"}), 422)
    assert_json_error(
        await ana.post(
            "/api/v1/statuses", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        400,
    )


@ONE_BACKEND
async def test_every_api_answer_reports_the_rate_limit(app, api_users) -> None:
    ana = await api_users("ana")
    answers = [
        await ana.get("/api/v1/accounts/verify_credentials"),
        await ana.get(f"/api/v1/accounts/{ana.id}"),
        await ana.get("/api/v1/accounts/31337"),
        await ana.post("/api/v1/statuses", data={"status": ""}),
        await ana.get("/api/v1/timelines/home"),
    ]
    async with anonymous(app) as nobody:
        answers += [
            await nobody.get("/api/v1/instance"),
            await nobody.get("/api/v2/instance"),
            await nobody.get("/api/v1/timelines/public"),
            await nobody.get("/api/v1/accounts/verify_credentials"),
            await nobody.post("/api/v1/apps", data={"client_name": ""}),
        ]
    for response in answers:
        assert_rate_limit_headers(response)
    # Each request counts once against the token.
    first, second = answers[0], answers[1]
    assert int(first.headers["X-RateLimit-Remaining"]) == (
        int(second.headers["X-RateLimit-Remaining"]) + 1
    )


@ONE_BACKEND
async def test_answers_refused_before_any_endpoint_report_the_rate_limit(app) -> None:
    """An unknown token and an unknown path are answered too, and counted against the address:
    otherwise guessing tokens would be the one thing never limited."""
    async with anonymous(app) as nobody:
        guesses = [
            await nobody.get(
                "/api/v1/accounts/verify_credentials",
                headers={"Authorization": f"Bearer guess-{i}"},
            )
            for i in range(2)
        ]
        unknown_path = await nobody.get("/api/v1/no/such/thing")
    for response in [*guesses, unknown_path]:
        assert_rate_limit_headers(response)
    assert int(guesses[0].headers["X-RateLimit-Remaining"]) == (
        int(guesses[1].headers["X-RateLimit-Remaining"]) + 1
    )


@ONE_BACKEND
@pytest.mark.parametrize("settings_overrides", [RATE_LIMITED])
async def test_past_the_limit_a_token_gets_429(app, api_users) -> None:
    ana = await api_users("ana")  # its verify_credentials was the first request
    bob = await api_users("bob")
    remaining = []
    for _ in range(2):
        response = await ana.get("/api/v1/timelines/home")
        assert response.status_code == 200, response.text
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining == [1, 0]
    limited = await ana.get("/api/v1/timelines/home")
    error = assert_json_error(limited, 429)
    assert error
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert reset_time(limited) > datetime.now(UTC)
    # Writes are refused too, and nothing is written.
    refused = await ana.post("/api/v1/statuses", data={"status": "over the limit"})
    assert_json_error(refused, 429)
    # The limit is per token: bob (and anyone without a token) still gets answers.
    assert (await bob.get("/api/v1/timelines/home")).status_code == 200
    async with anonymous(app) as nobody:
        public = await nobody.get("/api/v1/timelines/public")
    assert public.status_code == 200
    assert [s["content"] for s in public.json()] == []


@ONE_BACKEND
@pytest.mark.parametrize("settings_overrides", [RATE_LIMITED])
async def test_anonymous_clients_are_limited_by_address(app) -> None:
    async with anonymous(app) as nobody:
        answers = [await nobody.get("/api/v1/instance") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert_json_error(answers[-1], 429)
    # A client registering an app is held to the same limit.
    async with anonymous(app) as nobody:
        registered = await nobody.post(
            "/api/v1/apps",
            data={"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
        )
    assert_json_error(registered, 429)


@ONE_BACKEND
async def test_processes_sharing_redis_share_the_limit(settings, redis_url) -> None:
    # Two app processes of one cluster: the limit holds for the pair, not for each.
    prefix = f"twoorl-test-{uuid.uuid4().hex}:"
    shared = settings.model_copy(
        update={"redis_url": redis_url, "redis_prefix": prefix, "rate_limit_api": "3/day"}
    )
    first, second = create_app(shared, migrate=False), create_app(shared, migrate=False)
    try:
        statuses = []
        for app in (first, second, first, second):
            async with anonymous(app) as nobody:
                statuses.append((await nobody.get("/api/v1/instance")).status_code)
        assert statuses == [200, 200, 200, 429]
    finally:
        for app in (first, second):
            await close_app(app)
        forget_redis_prefix(redis_url, prefix)


# What a token may touch


@pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
async def test_a_token_cannot_delete_another_persons_status(app, api_users, shards) -> None:
    ana = await api_users("ana")
    bob = await api_users("bob")
    status = await ana.status("mine")
    refused = await bob.delete(f"/api/v1/statuses/{status['id']}")
    assert_json_error(refused, 403)
    assert await get_post(shards, int(status["id"])) is not None
    assert (await bob.get(f"/api/v1/statuses/{status['id']}")).status_code == 200
    deleted = await ana.delete(f"/api/v1/statuses/{status['id']}")
    assert deleted.status_code == 200, deleted.text
    assert await get_post(shards, int(status["id"])) is None


@ONE_BACKEND
async def test_a_token_changes_only_its_own_profile(app, api_users) -> None:
    ana = await api_users("ana")
    bob = await api_users("bob")
    # There is no way to name another account: whatever is sent changes bob only.
    response = await bob.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Bob", "id": ana.id, "username": "ana"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == bob.id
    assert response.json()["username"] == "bob"
    ana_now = (await ana.get("/api/v1/accounts/verify_credentials")).json()
    assert ana_now["display_name"] == ""
    assert (await ana.get(f"/api/v1/accounts/{bob.id}")).json()["display_name"] == "Bob"


@ONE_BACKEND
async def test_the_session_cookie_is_no_api_credential(app, people) -> None:
    """A cookie would let any web page call the API in a visitor's name."""
    ana = await people("ana")
    response = await ana.client.get("/api/v1/accounts/verify_credentials")
    assert_json_error(response, 401)
    posted = await ana.client.post("/api/v1/statuses", data={"status": "via cookie"})
    assert_json_error(posted, 401)
