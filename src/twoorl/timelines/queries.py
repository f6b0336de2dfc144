"""Per-shard timeline queries. Each returns at most ``limit`` posts, newest first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ARRAY, BigInteger, bindparam, literal_column, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from twoorl.posts.models import Post
from twoorl.posts.tables import post_tags, posts

# SQLite caps compound SELECTs at 500 terms.
_SQLITE_AUTHORS_PER_QUERY = 400

_PG_AUTHORS_NEWEST = text(
    """
    SELECT p.id, p.author_id, p.text, p.in_reply_to_id, p.in_reply_to_account_id,
           p.repost_of_id, p.repost_of_account_id
    FROM unnest(:author_ids) AS a(author_id)
    CROSS JOIN LATERAL (
        SELECT * FROM posts
        WHERE posts.author_id = a.author_id AND posts.id < :max_id AND posts.id > :min_id
        ORDER BY posts.id DESC
        LIMIT :limit
    ) AS p
    ORDER BY p.id DESC
    LIMIT :limit
    """
).bindparams(bindparam("author_ids", type_=ARRAY(BigInteger)))


async def newest_by_authors(
    conn: AsyncConnection, author_ids: Sequence[int], *, max_id: int, min_id: int, limit: int
) -> list[Post]:
    """Each author contributes at most ``limit`` rows through the (author_id, id DESC) index."""
    if not author_ids:
        return []
    if conn.dialect.name == "postgresql":
        rows = await conn.execute(
            _PG_AUTHORS_NEWEST,
            {"author_ids": list(author_ids), "max_id": max_id, "min_id": min_id, "limit": limit},
        )
        return [Post.from_row(r) for r in rows]
    found: list[Post] = []
    for start in range(0, len(author_ids), _SQLITE_AUTHORS_PER_QUERY):
        chunk = author_ids[start : start + _SQLITE_AUTHORS_PER_QUERY]
        per_author = [
            select(posts)
            .where(posts.c.author_id == author_id, posts.c.id < max_id, posts.c.id > min_id)
            .order_by(posts.c.id.desc())
            .limit(limit)
            .subquery()
            .select()
            for author_id in chunk
        ]
        combined = union_all(*per_author).subquery()
        query = select(combined).order_by(literal_column("id").desc()).limit(limit)
        found.extend(Post.from_row(r) for r in await conn.execute(query))
    found.sort(key=lambda p: p.id, reverse=True)
    return found[:limit]


async def newest_everywhere(
    conn: AsyncConnection, *, max_id: int, min_id: int, limit: int
) -> list[Post]:
    # Reposts belong in followers' home timelines, not in the everyone-timeline.
    rows = await conn.execute(
        select(posts)
        .where(posts.c.id < max_id, posts.c.id > min_id, posts.c.repost_of_id.is_(None))
        .order_by(posts.c.id.desc())
        .limit(limit)
    )
    return [Post.from_row(r) for r in rows]


async def newest_with_tag(
    conn: AsyncConnection, tag: str, *, max_id: int, min_id: int, limit: int
) -> list[Post]:
    rows = await conn.execute(
        select(posts)
        .join(post_tags, post_tags.c.post_id == posts.c.id)
        .where(post_tags.c.tag == tag, post_tags.c.post_id < max_id, post_tags.c.post_id > min_id)
        .order_by(post_tags.c.post_id.desc())
        .limit(limit)
    )
    return [Post.from_row(r) for r in rows]
