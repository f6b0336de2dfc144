"""The change feed that keeps caches right, at its edges: a feed that cannot be read turns the
caches off (pages come from the databases, right but slower) until it can be read again; a
flood of changes clears them instead of being replayed."""

from __future__ import annotations

import pytest

from statement_counter import counting
from twoorl.caching.changes import READ_LIMIT, RedisChangeFeed, record_change
from twoorl.posts.service import get_posts

pytestmark = pytest.mark.parametrize("shard_urls", ["sqlite3"], indirect=True)


async def post_by(api_users, text: str) -> int:
    author = await api_users("ana")
    return int((await author.status(text))["id"])


async def sql_statements_reading(shards, post_id: int) -> int:
    with counting(shards) as counts:
        assert post_id in await get_posts(shards, [post_id])
    return len([sql for _, sql in counts.statements if sql != "BEGIN"])


async def test_an_unreadable_feed_turns_the_caches_off_until_it_answers(shards, api_users):
    post_id = await post_by(api_users, "cached")
    await shards.catch_up()
    await get_posts(shards, [post_id])
    assert await sql_statements_reading(shards, post_id) == 0  # warm

    working = shards.feed
    shards.feed = RedisChangeFeed.from_url("redis://127.0.0.1:1")  # nothing listens there
    try:
        await shards.catch_up()
        assert not shards.caches.posts.enabled
        # Every read goes to the databases while changes could be missed.
        assert await sql_statements_reading(shards, post_id) == 1
        assert await sql_statements_reading(shards, post_id) == 1
    finally:
        await shards.feed.close()
        shards.feed = working
    await shards.catch_up()
    assert shards.caches.posts.enabled
    await get_posts(shards, [post_id])
    assert await sql_statements_reading(shards, post_id) == 0


async def test_a_flood_of_changes_clears_the_caches(shards, api_users):
    post_id = await post_by(api_users, "cached")
    await shards.catch_up()
    await get_posts(shards, [post_id])
    assert await sql_statements_reading(shards, post_id) == 0
    # Another process changed more than a reader replays: none of it about this post.
    async with shards.directory.write() as conn:
        for number in range(READ_LIMIT):
            record_change(conn, "account", number)
    await shards.catch_up()
    assert len(shards.caches.posts) == 0
    assert await sql_statements_reading(shards, post_id) == 1
