"""Search across shards: each shard answers for its own rows, newest first, and the answers
are merged like any timeline (the seed's pmap and merge).

Post search here is a case-insensitive substring match over recent posts; full-text indexes
(PostgreSQL ``tsvector``, SQLite FTS5) are the moderation-and-search issue's work.
"""

from __future__ import annotations

from sqlalchemy import func, select

from twoorl.accounts.service import escape_like
from twoorl.posts.models import Post
from twoorl.posts.tables import post_tags, posts
from twoorl.posts.text import normalize_tag, strip_control_characters
from twoorl.storage.shards import ShardSet
from twoorl.timelines.merge import merge_newest

MAX_QUERY = 200


def clean_query(text: str) -> str:
    return " ".join(strip_control_characters(text).split())[:MAX_QUERY]


async def hashtags(shards: ShardSet, query: str, *, limit: int) -> list[str]:
    """Tags in use that start with ``query`` (without '#'), alphabetically."""
    prefix = normalize_tag(clean_query(query).removeprefix("#"))
    if not prefix:
        return []
    pattern = escape_like(prefix) + "%"

    async def fetch(shard, conn) -> list[str]:
        rows = await conn.execute(
            select(post_tags.c.tag)
            .distinct()
            .where(post_tags.c.tag.like(pattern, escape="\\"))
            .order_by(post_tags.c.tag)
            .limit(limit)
        )
        return list(rows.scalars())

    found = sorted({tag for batch in await shards.gather(fetch) for tag in batch})
    return found[:limit]


async def posts_containing(
    shards: ShardSet,
    query: str,
    *,
    max_id: int | None = None,
    limit: int,
    author_id: int | None = None,
) -> list[Post]:
    """The newest posts whose text contains ``query`` (reposts excluded), of one author's
    if ``author_id`` is given (then only their shard is asked)."""
    needle = clean_query(query).lower()
    if not needle:
        return []
    pattern = "%" + escape_like(needle) + "%"

    async def fetch(shard, conn) -> list[Post]:
        statement = (
            select(posts)
            .where(
                posts.c.repost_of_id.is_(None),
                func.lower(posts.c.text).like(pattern, escape="\\"),
            )
            .order_by(posts.c.id.desc())
            .limit(limit)
        )
        if max_id is not None:
            statement = statement.where(posts.c.id < max_id)
        if author_id is not None:
            statement = statement.where(posts.c.author_id == author_id)
        return [Post.from_row(row) for row in await conn.execute(statement)]

    targets = [shards.for_id(author_id)] if author_id is not None else None
    return merge_newest(await shards.gather(fetch, targets), limit, key=lambda post: post.id)
