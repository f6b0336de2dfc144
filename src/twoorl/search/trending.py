"""Trending hashtags: the tags of the most posts in the last 24 hours, counted on every shard.

No timestamp column is needed: post ids are snowflakes, so "the last 24 hours" is
``post_id >= lowest_id_at(now - 24 h)``, a range of ``ix_post_tags_post_id``. Each shard
counts its own posts' tags (one grouped query, all shards at once), the counts are added up
and the top ten kept. The result is cached per process for ``CACHE_SECONDS``, so the public
page does not count on every view.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass

from sqlalchemy import bindparam, exists, func, select, text

from twoorl.ids import lowest_id_at
from twoorl.posts.tables import post_tags, posts
from twoorl.search.filters import hidden_account_ids
from twoorl.storage.shards import ShardSet

WINDOW_MS = 24 * 60 * 60 * 1000
TOP = 10
CACHE_SECONDS = 60.0
# Tags counted per shard. The sum across shards is exact for any tag within every shard's
# first PER_SHARD (all of them, unless a shard sees more distinct tags than this in a day).
PER_SHARD = 1000


# SQLite, without statistics, would rather scan the whole primary key (it yields the tags in
# GROUP BY order) than read the day's range of ix_post_tags_post_id: INDEXED BY says which.
_SQLITE_SQL = """
SELECT tag, count(*) AS posts FROM post_tags INDEXED BY ix_post_tags_post_id
WHERE post_id >= :since {hiding}
GROUP BY tag ORDER BY posts DESC, tag LIMIT :limit
"""
_SQLITE = text(_SQLITE_SQL.format(hiding=""))
_SQLITE_HIDING = text(
    _SQLITE_SQL.format(
        hiding="AND post_id NOT IN (SELECT id FROM posts WHERE author_id IN :hidden)"
    )
).bindparams(bindparam("hidden", expanding=True))


@dataclass(frozen=True)
class TrendingTag:
    tag: str
    posts: int


async def count_trending(
    shards: ShardSet, *, now_ms: int | None = None, limit: int = TOP
) -> list[TrendingTag]:
    """The ``limit`` tags on most posts since ``now_ms`` - 24 h, most first, then by name."""
    now_ms = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    since = lowest_id_at(now_ms - WINDOW_MS)
    hidden = await hidden_account_ids(shards, None)
    posts_count = func.count().label("posts")

    async def fetch(shard, conn) -> list[tuple[str, int]]:
        if shard.is_sqlite:
            rows = await conn.execute(_SQLITE_HIDING if hidden else _SQLITE, params)
            return [(row.tag, row.posts) for row in rows]
        statement = (
            select(post_tags.c.tag, posts_count)
            .where(post_tags.c.post_id >= since)
            .group_by(post_tags.c.tag)
            .order_by(posts_count.desc(), post_tags.c.tag)
            .limit(PER_SHARD)
        )
        if hidden:
            statement = statement.where(
                ~exists().where(
                    posts.c.id == post_tags.c.post_id, posts.c.author_id.in_(sorted(hidden))
                )
            )
        return [(row.tag, row.posts) for row in await conn.execute(statement)]

    params: dict[str, object] = {"since": since, "limit": PER_SHARD}
    if hidden:
        params["hidden"] = sorted(hidden)
    totals: dict[str, int] = {}
    for rows in await shards.gather(fetch):
        for tag, count in rows:
            totals[tag] = totals.get(tag, 0) + count
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [TrendingTag(tag, count) for tag, count in ranked]


class _Cached:
    def __init__(self) -> None:
        self.value: list[TrendingTag] = []
        self.expires = 0.0
        self.lock = asyncio.Lock()


_cache: weakref.WeakKeyDictionary[ShardSet, _Cached] = weakref.WeakKeyDictionary()


async def trending(shards: ShardSet) -> list[TrendingTag]:
    """:func:`count_trending`, at most ``CACHE_SECONDS`` old; one count at a time per process
    (others wait for it rather than count too)."""
    cached = _cache.setdefault(shards, _Cached())
    if time.monotonic() < cached.expires:
        return cached.value
    async with cached.lock:
        if time.monotonic() >= cached.expires:
            cached.value = await count_trending(shards)
            cached.expires = time.monotonic() + CACHE_SECONDS
    return cached.value


def forget(shards: ShardSet) -> None:
    """Drop the cached answer (tests)."""
    _cache.pop(shards, None)
