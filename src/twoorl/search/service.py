"""Search across shards: each shard answers for its own rows, newest first, and the answers
are merged like any timeline (the seed's pmap and merge): one query per shard, all shards at
once (``ShardSet.gather``), then a k-way merge that stops at the page.

Posts are found by full-text indexes (migration 0005): on PostgreSQL a GIN index on
``twoorl_search_document(text)`` (the ``simple`` configuration), on SQLite an FTS5 table with
the trigram tokenizer. How a query becomes index syntax is in :mod:`twoorl.search.query`.
Results are newest first, not ranked: search reads like a timeline and pages by ``max_id``.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Select, column, func, literal_column, select, table

from twoorl.accounts import service as accounts
from twoorl.accounts.models import Account
from twoorl.accounts.service import escape_like
from twoorl.ids import MAX_ID
from twoorl.posts.models import Post
from twoorl.posts.tables import post_tags, posts
from twoorl.posts.text import normalize_tag
from twoorl.search.filters import hidden_account_ids
from twoorl.search.query import MAX_QUERY, SearchQuery, clean_query, parse
from twoorl.storage.shards import Shard, ShardSet
from twoorl.timelines.merge import merge_newest

__all__ = [
    "MAX_QUERY",
    "clean_query",
    "hashtags",
    "parse",
    "people",
    "search_posts",
]

_fts = table("posts_fts", column("rowid"))
_SIMPLE = literal_column("'simple'::regconfig")


async def hashtags(shards: ShardSet, query: str, *, limit: int) -> list[str]:
    """Tags in use that start with ``query`` (without '#'), alphabetically."""
    prefix = normalize_tag(clean_query(query).removeprefix("#"))
    if not prefix:
        return []
    pattern = escape_like(prefix) + "%"

    async def fetch(shard, conn) -> list[str]:
        if shard.is_sqlite:
            # Tags are stored case-folded, so a case-sensitive GLOB is right, and unlike LIKE
            # SQLite answers it from the primary key (tag, post_id). No tag holds * ? [ ].
            if any(char in prefix for char in "*?[]"):
                return []
            condition = post_tags.c.tag.op("GLOB")(prefix + "*")
        else:
            condition = post_tags.c.tag.like(pattern, escape="\\")  # ix_post_tags_tag_pattern
        rows = await conn.execute(
            select(post_tags.c.tag)
            .distinct()
            .where(condition)
            .order_by(post_tags.c.tag)
            .limit(limit)
        )
        return list(rows.scalars())

    found = sorted({tag for batch in await shards.gather(fetch) for tag in batch})
    return found[:limit]


async def people(
    shards: ShardSet, query: str, *, limit: int, viewer: Account | None = None
) -> list[Account]:
    """People whose username or display name starts with the query's first word (one indexed
    query on the directory), the one whose username it is first, hidden people left out
    (``search.filters``: the same rules for pages and the API)."""
    name = clean_query(query).removeprefix("@").removeprefix("#").strip('"').strip()
    if not name:
        return []
    hidden, exact = await asyncio.gather(
        hidden_account_ids(shards, viewer), accounts.get_by_username(shards, name)
    )
    found = await accounts.search_by_name(shards, name, limit=limit + len(hidden))
    if exact is not None:
        found = [exact, *(person for person in found if person.id != exact.id)]
    return [person for person in found if person.id not in hidden][:limit]


async def search_posts(
    shards: ShardSet,
    query: str | SearchQuery,
    *,
    max_id: int | None = None,
    limit: int,
    author_id: int | None = None,
    viewer: Account | None = None,
) -> list[Post]:
    """The newest ``limit`` posts (reposts excluded) matching ``query``, below ``max_id``,
    of one author's if ``author_id`` is given (then only their shard is asked)."""
    parsed = query if isinstance(query, SearchQuery) else parse(query)
    if parsed.is_empty or limit <= 0:
        return []
    hidden = await hidden_account_ids(shards, viewer)

    async def fetch(shard: Shard, conn) -> list[Post]:
        statement = _statement(shard, parsed, limit, max_id)
        if author_id is not None:
            statement = statement.where(posts.c.author_id == author_id)
        if hidden:
            statement = statement.where(posts.c.author_id.notin_(sorted(hidden)))
        return [Post.from_row(row) for row in await conn.execute(statement)]

    targets = [shards.for_id(author_id)] if author_id is not None else None
    return merge_newest(await shards.gather(fetch, targets), limit, key=lambda post: post.id)


def _statement(shard: Shard, parsed: SearchQuery, limit: int, max_id: int | None) -> Select:
    base = select(posts).where(posts.c.repost_of_id.is_(None))
    if parsed.tag is not None:
        return (
            base.join(post_tags, post_tags.c.post_id == posts.c.id)
            .where(post_tags.c.tag == parsed.tag, post_tags.c.post_id < (max_id or MAX_ID))
            .order_by(post_tags.c.post_id.desc())
            .limit(limit)
        )
    if not shard.is_sqlite:
        document = func.twoorl_search_document(posts.c.text)
        return (
            base.where(
                document.op("@@")(func.to_tsquery(_SIMPLE, parsed.postgres())),
                posts.c.id < (max_id or MAX_ID),
            )
            # "id + 0", not "id": PostgreSQL would otherwise walk the primary key backwards
            # and filter every row, betting that the words are common; for a rare word that
            # reads the whole table. This way it always reads the GIN index's matches and
            # sorts them (top-N): the cost follows how many posts match, not the table size.
            .order_by((posts.c.id + 0).desc())
            .limit(limit)
        )
    match = parsed.sqlite_match()
    for short in parsed.sqlite_short_terms():
        base = base.where(posts.c.text.like("%" + escape_like(short) + "%", escape="\\"))
    if match is None:
        # Only short words: no trigram to look up; newest-first scan, stopped at the page.
        return base.where(posts.c.id < (max_id or MAX_ID)).order_by(posts.c.id.desc()).limit(limit)
    # FTS5 answers MATCH and the rowid bound itself, in rowid order (no sort).
    return (
        base.join(_fts, _fts.c.rowid == posts.c.id)
        .where(literal_column("posts_fts").op("MATCH")(match), _fts.c.rowid < (max_id or MAX_ID))
        .order_by(_fts.c.rowid.desc())
        .limit(limit)
    )
