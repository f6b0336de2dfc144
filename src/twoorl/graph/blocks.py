"""Blocks and mutes: the reads. Both tables live on the blocker's (muter's) shard, so "does A
block B?" is one point lookup on A's shard; a block's in-edge (``blocked_by``, on the blocked
person's shard) makes "whom does the viewer not see?" (muted, blocked, blocked by) one query on
the viewer's. The writes (a block also removes follows both ways) are in ``graph.service``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Table, literal, select, union, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from twoorl.accounts.models import Account
from twoorl.graph.tables import blocked_by, blocks, mutes
from twoorl.moderation.roles import is_moderator
from twoorl.storage.shards import ShardSet


async def blocks_on(conn: AsyncConnection, account_id: int, target_id: int) -> bool:
    """Whether ``account_id`` blocks ``target_id``; ``conn`` is on ``account_id``'s shard (so
    a write transaction there can check it without another connection)."""
    row = (
        await conn.execute(
            select(blocks.c.target_id).where(
                blocks.c.account_id == account_id, blocks.c.target_id == target_id
            )
        )
    ).first()
    return row is not None


async def is_blocking(shards: ShardSet, account_id: int, target_id: int) -> bool:
    async with shards.for_id(account_id).read() as conn:
        return await blocks_on(conn, account_id, target_id)


def hidden_by(account_id):
    """A subquery of the ids hidden from ``account_id``: whom they muted or blocked and who
    blocked them, for SQL on their own shard (notifications: ``actor_id NOT IN (...)`` keeps
    pages full and the unread count right)."""
    return union(
        select(mutes.c.target_id).where(mutes.c.account_id == account_id),
        *_blocks_either_way(account_id),
    )


def _blocks_either_way(account_id) -> list:
    # Flat lists of SELECTs: SQLite refuses a UNION nested in parentheses.
    return [
        select(blocks.c.target_id).where(blocks.c.account_id == account_id),
        select(blocked_by.c.blocker_id).where(blocked_by.c.account_id == account_id),
    ]


@dataclass(frozen=True)
class Relations:
    """Whom one person muted and blocked, and who blocked them (the in-edges on their
    shard): everything "whom does this viewer not see?" needs, read together."""

    muted: frozenset[int] = frozenset()
    blocked: frozenset[int] = frozenset()
    blocked_by: frozenset[int] = frozenset()


async def relations_of(shards: ShardSet, account_id: int) -> Relations:
    """One query on ``account_id``'s shard, cached in this process until a mute or block
    involving them changes (``caching.changes``)."""
    cache = shards.caches.hidden
    cached = cache.get(account_id)
    if cached is not None:
        return cached
    drops_before = cache.drops
    statement = union_all(
        select(mutes.c.target_id, literal("m")).where(mutes.c.account_id == account_id),
        select(blocks.c.target_id, literal("b")).where(blocks.c.account_id == account_id),
        select(blocked_by.c.blocker_id, literal("by")).where(blocked_by.c.account_id == account_id),
    )
    found: dict[str, set[int]] = {"m": set(), "b": set(), "by": set()}
    async with shards.for_id(account_id).read() as conn:
        for other_id, kind in (await conn.execute(statement)).all():
            found[kind].add(other_id)
    relations = Relations(frozenset(found["m"]), frozenset(found["b"]), frozenset(found["by"]))
    cache.put_many({account_id: relations}, drops_before)
    return relations


async def hidden_ids(
    shards: ShardSet, viewer_id: int | None, *, include_blockers: bool = True
) -> frozenset[int]:
    """Everyone whose posts and notifications ``viewer_id`` does not see: the people they
    muted or blocked, and (``include_blockers``) those who blocked them."""
    if viewer_id is None:
        return frozenset()
    mine = await relations_of(shards, viewer_id)
    hidden = mine.muted | mine.blocked
    return hidden | mine.blocked_by if include_blockers else hidden


async def blocks_either_way_ids(shards: ShardSet, viewer: Account | None) -> frozenset[int]:
    """The people ``viewer`` blocked and those who blocked them (search and the directory
    leave both out; a moderator still finds who blocked them)."""
    if viewer is None:
        return frozenset()
    mine = await relations_of(shards, viewer.id)
    return mine.blocked if is_moderator(viewer) else mine.blocked | mine.blocked_by


async def hidden_from_viewer(shards: ShardSet, author_id: int, viewer: Account | None) -> bool:
    """Whether ``author_id`` blocked ``viewer``, so their profile and posts are not shown to
    them; moderators are never kept from seeing what they moderate."""
    if viewer is None or viewer.id == author_id or is_moderator(viewer):
        return False
    return await is_blocked_by(shards, viewer.id, author_id)


async def is_blocked_by(shards: ShardSet, account_id: int, blocker_id: int) -> bool:
    """Whether ``blocker_id`` blocks ``account_id``, from the in-edge on ``account_id``'s shard
    (a job behind the block itself)."""
    return blocker_id in (await relations_of(shards, account_id)).blocked_by


async def blocking_among(shards: ShardSet, account_id: int, candidates: Iterable[int]) -> set[int]:
    return set((await relations_of(shards, account_id)).blocked.intersection(candidates))


async def muting_among(shards: ShardSet, account_id: int, candidates: Iterable[int]) -> set[int]:
    return set((await relations_of(shards, account_id)).muted.intersection(candidates))


async def blocked_by_among(
    shards: ShardSet, account_id: int, candidates: Iterable[int]
) -> set[int]:
    """Which of ``candidates`` block ``account_id``: one query per shard holding candidates."""
    by_shard = shards.group_by_shard(set(candidates))

    async def blockers(shard, conn) -> list[int]:
        rows = await conn.execute(
            select(blocks.c.account_id).where(
                blocks.c.account_id.in_(by_shard[shard]), blocks.c.target_id == account_id
            )
        )
        return list(rows.scalars())

    # Every shard holding candidates at once, as timelines read.
    return {i for found in await shards.gather(blockers, by_shard) for i in found}


async def blocked_page(shards: ShardSet, account_id: int, *, before: int | None, limit: int):
    return await _page(shards, blocks, account_id, before, limit)


async def muted_page(shards: ShardSet, account_id: int, *, before: int | None, limit: int):
    return await _page(shards, mutes, account_id, before, limit)


async def _page(shards: ShardSet, table: Table, account_id: int, before, limit):
    from twoorl.graph.service import EdgePage  # the same page shape as followers

    # Paged by the target's id (a snowflake), newest account first: stable, no OFFSET.
    query = (
        select(table.c.target_id)
        .where(table.c.account_id == account_id)
        .order_by(table.c.target_id.desc())
    )
    if before is not None:
        query = query.where(table.c.target_id < before)
    async with shards.for_id(account_id).read() as conn:
        ids = list((await conn.execute(query.limit(limit + 1))).scalars())
    more = len(ids) > limit
    ids = ids[:limit]
    return EdgePage(ids, ids[-1] if more else None)
