"""The site with Redis fan-out switched on, and a shard that stops answering."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
from fanout_support import fresh_prefix

from conftest import PG_HOST, forget_redis_prefix, post_ids
from statement_counter import counting

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("shard_urls", ["postgres3"], indirect=True),
]


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    prefix = fresh_prefix()
    yield prefix
    forget_redis_prefix(redis_url, prefix)


@pytest.fixture
def settings_overrides(request, redis_url: str, redis_prefix: str) -> dict[str, object]:
    overrides: dict[str, object] = {"redis_url": redis_url, "redis_prefix": redis_prefix}
    if request.function is test_a_stuck_shard_fails_the_page_with_503_not_forever:
        # Short, so the stuck shard is given up quickly; only here, where nothing else is
        # slow (a loaded machine can take a second to open a connection).
        overrides["shard_timeout_seconds"] = 1
    return overrides


async def test_home_pages_come_from_the_fan_out_cache(app, people, shards) -> None:
    ana, bo = await people("ana"), await people("bo")
    await bo.follow("ana")
    assert post_ids((await bo.get("/")).text) == []
    await ana.post("hello from ana")
    await ana.post("and again")
    home = await bo.get("/")
    shown = post_ids(home.text)
    assert len(shown) == 2 and "hello from ana" in home.text
    # Read again: the ids come from bo's cached timeline in Redis and the posts from the
    # caches, so no shard is asked for anyone's newest posts.
    with counting(shards) as counts:
        again = await bo.get("/")
    assert post_ids(again.text) == shown
    timeline_reads = [sql for _, sql in counts.statements if "author_heads" in sql]
    assert timeline_reads == [], counts.report()
    # What is left is the viewer's own: their unread count and their likes (the client
    # drains the job queue after each answer; that is not the page).
    page_queries = [sql for _, sql in counts.statements if "jobs" not in sql and sql != "BEGIN"]
    assert len(page_queries) <= 2, counts.report()
    assert 1 <= counts.redis_round_trips <= 4  # the change feed, the timeline, its floor
    # Unfollowing empties the page at once, not after the job.
    await bo.unfollow("ana")
    assert post_ids((await bo.get("/")).text) == []


async def test_a_stuck_shard_fails_the_page_with_503_not_forever(app, people, shard_urls) -> None:
    visitor = await people()
    name = shard_urls[1].rsplit("/", 1)[1]
    blocker = await asyncpg.connect(f"postgresql://postgres@{PG_HOST}/{name}")
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
        response = await asyncio.wait_for(visitor.get("/public"), timeout=20)
        assert response.status_code == 503
        assert "answering too slowly" in response.text
        assert response.headers["Retry-After"] == "5"
        await transaction.rollback()
    finally:
        await blocker.close()
    assert (await visitor.get("/public")).status_code == 200
