"""Two app processes over the same databases, each with caches of its own: what one changes
shows on the very next request served by the other. Each app here is what a process has
(its own ShardSet, caches and change-feed reader; nothing shared but the databases and
Redis), once with the change feed in the directory database (no Redis) and once in Redis."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fanout_support import fresh_prefix

from api_support import ApiUser, web_and_api_user
from conftest import close_app, forget_redis_prefix
from twoorl.accounts import service as accounts
from twoorl.app import create_app
from twoorl.moderation import service as moderation
from twoorl.oauth import service as oauth

pytestmark = pytest.mark.parametrize(
    ("shard_urls", "feed"), [("sqlite3", "sql"), ("postgres3", "redis")], indirect=["shard_urls"]
)


@pytest.fixture
def redis_prefix(feed: str, request) -> Iterator[str | None]:
    if feed != "redis":
        yield None
        return
    url = request.getfixturevalue("redis_url")
    prefix = fresh_prefix()
    yield prefix
    forget_redis_prefix(url, prefix)


@pytest.fixture
def settings_overrides(feed: str, redis_prefix, request) -> dict[str, object]:
    if feed != "redis":
        return {}
    return {"redis_url": request.getfixturevalue("redis_url"), "redis_prefix": redis_prefix}


@pytest.fixture
async def other_app(settings) -> AsyncIterator:
    """A second process's app: the same settings, nothing in memory shared with ``app``."""
    application = create_app(settings, migrate=False)
    yield application
    await close_app(application)


def served_by(app, user: ApiUser) -> ApiUser:
    """The same person and token, their requests served by ``app``."""
    return ApiUser(app, user.username, user.token, user.id)


@pytest.fixture
async def world(app, other_app, people):
    """ana posts, carl reposts it, bo follows both; bo's home is read (and cached) on the
    other process first."""
    _ana_web, ana = await web_and_api_user(app, people, "ana")
    _bo_web, bo = await web_and_api_user(app, people, "bo")
    _carl_web, carl = await web_and_api_user(app, people, "carl")
    for followee in (ana, carl):
        assert (await bo.post(f"/api/v1/accounts/{followee.id}/follow")).status_code == 200
    post = await ana.status("hello from ana")
    assert (await carl.post(f"/api/v1/statuses/{post['id']}/reblog")).status_code == 200
    await carl.status("carl's own words")
    bo_there = served_by(other_app, bo)
    home = await home_ids(bo_there)
    assert post["id"] in home, "the other process shows ana's post before the change"
    yield {"ana": ana, "bo": bo, "carl": carl, "bo_there": bo_there, "post": post}
    await bo_there.client.aclose()


async def home_ids(user: ApiUser) -> list[str]:
    response = await user.get("/api/v1/timelines/home")
    assert response.status_code == 200, response.text
    return [(s["reblog"] or s)["id"] for s in response.json()]


async def public_ids(user: ApiUser) -> list[str]:
    response = await user.get("/api/v1/timelines/public")
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


async def test_a_deleted_post_and_its_reposts_leave_the_other_process(world) -> None:
    post, bo_there = world["post"], world["bo_there"]
    assert (await bo_there.get(f"/api/v1/statuses/{post['id']}")).status_code == 200
    assert (await world["ana"].delete(f"/api/v1/statuses/{post['id']}")).status_code == 200
    assert post["id"] not in await home_ids(bo_there)  # nor carl's repost of it
    assert (await bo_there.get(f"/api/v1/statuses/{post['id']}")).status_code == 404


async def test_new_posts_reposts_and_follows_show_at_once_in_the_other_process(
    app, people, world
) -> None:
    """Each timeline's newest entries are kept per process (``timelines.windows``): a post,
    a repost, a follow, an unfollow or a new tagged post elsewhere shows on the next page."""
    ana, bo, carl, bo_there = world["ana"], world["bo"], world["carl"], world["bo_there"]
    tagged_there = f"/api/v1/timelines/tag/{ana.username}news"
    assert (await bo_there.get(tagged_there)).json() == []
    assert await public_ids(bo_there)  # the other process holds a public window
    fresh = await ana.status(f"fresh news #{ana.username}news")
    assert (await home_ids(bo_there))[0] == fresh["id"]
    assert [s["id"] for s in (await bo_there.get(tagged_there)).json()] == [fresh["id"]]
    assert (await public_ids(bo_there))[0] == fresh["id"]
    gone = await carl.status("posted and deleted at once")
    assert (await carl.delete(f"/api/v1/statuses/{gone['id']}")).status_code == 200
    assert gone["id"] not in await public_ids(bo_there)
    assert (await public_ids(bo_there))[0] == fresh["id"]
    _dee_web, dee = await web_and_api_user(app, people, "dee")
    older = await dee.status("dee was here before bo followed")
    assert older["id"] not in await home_ids(bo_there)
    assert (await bo.post(f"/api/v1/accounts/{dee.id}/follow")).status_code == 200
    assert older["id"] in await home_ids(bo_there)
    assert (await dee.post(f"/api/v1/statuses/{fresh['id']}/reblog")).status_code == 200
    reposted = (await bo_there.get("/api/v1/timelines/home")).json()[0]
    assert reposted["account"]["id"] == dee.id and reposted["reblog"]["id"] == fresh["id"]
    assert (await bo.post(f"/api/v1/accounts/{carl.id}/unfollow")).status_code == 200
    accounts_shown = {
        s["account"]["id"] for s in (await bo_there.get("/api/v1/timelines/home")).json()
    }
    assert carl.id not in accounts_shown and dee.id in accounts_shown


async def test_a_mute_and_a_block_hide_at_once_in_the_other_process(world) -> None:
    bo, bo_there, post = world["bo"], world["bo_there"], world["post"]
    assert (await bo.post(f"/api/v1/accounts/{world['ana'].id}/mute")).status_code == 200
    assert post["id"] not in await home_ids(bo_there)
    assert (await bo.post(f"/api/v1/accounts/{world['carl'].id}/block")).status_code == 200
    assert await home_ids(bo_there) == []


async def test_a_new_display_name_shows_in_the_other_process(world) -> None:
    ana, bo_there = world["ana"], world["bo_there"]
    changed = await ana.patch(
        "/api/v1/accounts/update_credentials", data={"display_name": "Ana Renamed"}
    )
    assert changed.status_code == 200, changed.text
    statuses = [s["reblog"] or s for s in (await bo_there.get("/api/v1/timelines/home")).json()]
    names = {s["account"]["display_name"] for s in statuses if s["account"]["id"] == ana.id}
    assert names == {"Ana Renamed"}


async def test_a_suspension_shows_and_signs_out_in_the_other_process(app, other_app, world):
    ana, post = world["ana"], world["post"]
    ana_there = served_by(other_app, ana)
    assert (await ana_there.get("/api/v1/accounts/verify_credentials")).status_code == 200
    shards = app.state.services.shards
    target = await accounts.get_by_id(shards, int(ana.id))
    assert target is not None
    await moderation.suspend(shards, None, target, "spam")
    await app.state.services.worker.drain()
    assert post["id"] not in await home_ids(world["bo_there"])
    assert (await ana_there.get("/api/v1/accounts/verify_credentials")).status_code == 401
    await ana_there.client.aclose()


async def test_a_revoked_token_and_a_signed_out_session_end_in_the_other_process(
    app, other_app, people, world
) -> None:
    bo, bo_there = world["bo"], world["bo_there"]
    await oauth.revoke_all(app.state.services.shards, int(bo.id))
    assert (await bo_there.get("/api/v1/timelines/home")).status_code == 401

    person = await people("dee")
    cookies = httpx.Cookies(person.client.cookies)  # copied before logout, as a thief would
    assert (await served_page(other_app, cookies, "/settings")).status_code == 200
    assert (await person.submit("/logout", page="/")).status_code == 303
    page = await served_page(other_app, cookies, "/settings")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def served_page(app, cookies: httpx.Cookies, path: str) -> httpx.Response:
    """``path`` with these cookies, served by ``app``."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", cookies=cookies
    ) as client:
        return await client.get(path)


async def test_the_unread_count_in_the_header_follows_notifications_in_the_other_process(
    app, other_app, people, world
) -> None:
    """The header's count is cached per process: a like, a mute of the liker, an unmute and
    reading the notifications each show on the next page the other process serves."""
    carl = world["carl"]
    erin_web, erin = await web_and_api_user(app, people, "erin")
    cookies = httpx.Cookies(erin_web.client.cookies)
    erin_post = await erin.status("erin says hello")

    async def unread_there() -> str:
        page = await served_page(other_app, cookies, "/")
        assert page.status_code == 200, page.text
        badge = BADGE.search(page.text)
        assert badge, page.text
        return "" if badge["hidden"] else badge["count"]

    assert await unread_there() == ""
    assert (await carl.post(f"/api/v1/statuses/{erin_post['id']}/favourite")).status_code == 200
    await app.state.services.worker.drain()
    assert await unread_there() == "1"
    assert (await erin.post(f"/api/v1/accounts/{carl.id}/mute")).status_code == 200
    assert await unread_there() == ""
    assert (await erin.post(f"/api/v1/accounts/{carl.id}/unmute")).status_code == 200
    assert await unread_there() == "1"
    assert (await erin_web.client.get("/notifications")).status_code == 200  # reads them
    assert await unread_there() == ""


BADGE = re.compile(r'<span class="badge" data-unread(?P<hidden> hidden)?>(?P<count>[^<]*)</span>')
