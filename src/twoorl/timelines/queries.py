"""Per-shard timeline queries. Each returns at most ``limit`` posts, newest first."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import ARRAY, BigInteger, bindparam, literal_column, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from twoorl.posts.models import Post
from twoorl.posts.tables import post_tags, posts

# SQLite caps compound SELECTs at 500 terms.
_SQLITE_AUTHORS_PER_QUERY = 400

# Heads first: an author can only reach the page if their newest post under the cursor is
# among the ``limit`` newest such heads. ``author_heads`` answers that for the first page
# without touching ``posts``; below a cursor, only authors whose head is at or above it need
# one index probe. Then at most ``limit`` posts are read from each of the chosen authors.
_PG_HEADS_PRUNED = text(
    """
    WITH heads AS (
        SELECT h.author_id,
               CASE WHEN h.head_id < :max_id THEN h.head_id
                    ELSE (SELECT p.id FROM posts p
                          WHERE p.author_id = h.author_id AND p.id < :max_id
                          ORDER BY p.id DESC LIMIT 1)
               END AS head
        FROM author_heads h
        WHERE h.author_id = ANY(:author_ids) AND h.head_id IS NOT NULL
    ), top AS (
        SELECT author_id FROM heads WHERE head > :min_id ORDER BY head DESC LIMIT :limit
    )
    SELECT p.id, p.author_id, p.text, p.in_reply_to_id, p.in_reply_to_account_id,
           p.repost_of_id, p.repost_of_account_id
    FROM top
    CROSS JOIN LATERAL (
        SELECT * FROM posts
        WHERE posts.author_id = top.author_id AND posts.id < :max_id AND posts.id > :min_id
        ORDER BY posts.id DESC
        LIMIT :limit
    ) AS p
    ORDER BY p.id DESC
    LIMIT :limit
    """
).bindparams(bindparam("author_ids", type_=ARRAY(BigInteger)))

# SQLite has no LATERAL: pick the authors in one statement (the follow list as one JSON
# parameter, so no limit on its length), then read their posts with per-author LIMITs.
_SQLITE_TOP_HEADS = text(
    """
    SELECT author_id FROM (
        SELECT h.author_id,
               CASE WHEN h.head_id < :max_id THEN h.head_id
                    ELSE (SELECT max(p.id) FROM posts p
                          WHERE p.author_id = h.author_id AND p.id < :max_id)
               END AS head
        FROM author_heads h
        WHERE h.author_id IN (SELECT value FROM json_each(:author_ids))
          AND h.head_id IS NOT NULL
    )
    WHERE head > :min_id
    ORDER BY head DESC
    LIMIT :limit
    """
)


async def newest_by_authors(
    conn: AsyncConnection, author_ids: Sequence[int], *, max_id: int, min_id: int, limit: int
) -> list[Post]:
    """The newest ``limit`` posts (and reposts) of ``author_ids`` with min_id < id < max_id,
    newest first, reading posts only of the authors whose heads can reach the page."""
    if not author_ids:
        return []
    bounds = {"max_id": max_id, "min_id": min_id, "limit": limit}
    if conn.dialect.name == "postgresql":
        rows = await conn.execute(_PG_HEADS_PRUNED, {"author_ids": list(author_ids), **bounds})
        return [Post.from_row(r) for r in rows]
    chosen = list(
        (
            await conn.execute(
                _SQLITE_TOP_HEADS, {"author_ids": json.dumps(list(author_ids)), **bounds}
            )
        ).scalars()
    )
    return await _newest_per_author_sqlite(conn, chosen, max_id=max_id, min_id=min_id, limit=limit)


async def _newest_per_author_sqlite(
    conn: AsyncConnection, author_ids: Sequence[int], *, max_id: int, min_id: int, limit: int
) -> list[Post]:
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
        .where(
            posts.c.id < max_id,
            posts.c.id > min_id,
            posts.c.repost_of_id.is_(None),
            posts.c.hidden.is_(False),  # spammers' and suspended accounts' posts
        )
        .order_by(posts.c.id.desc())
        .limit(limit)
    )
    return [Post.from_row(r) for r in rows]


async def newest_with_tag(
    conn: AsyncConnection, tags: list[str], *, max_id: int, min_id: int, limit: int
) -> list[Post]:
    """The newest ``limit`` posts carrying any of ``tags`` (one index range per tag)."""
    rows = await conn.execute(
        select(posts)
        .join(post_tags, post_tags.c.post_id == posts.c.id)
        .where(
            post_tags.c.tag == tags[0] if len(tags) == 1 else post_tags.c.tag.in_(tags),
            post_tags.c.post_id < max_id,
            post_tags.c.post_id > min_id,
            posts.c.hidden.is_(False),
        )
        .order_by(post_tags.c.post_id.desc())
        # A post with several of the tags comes once per tag: read enough for ``limit`` posts.
        .limit(limit * len(tags))
    )
    unique = {r.id: Post.from_row(r) for r in rows}
    return list(unique.values())[:limit]
