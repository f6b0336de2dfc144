"""Reading edge tables (follows, blocks, mutes): each edge lives on its owner's shard."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Column, select

from twoorl.storage.shards import ShardSet


async def ids_among(
    shards: ShardSet, owner: Column, other: Column, account_id: int, candidates: Iterable[int]
) -> set[int]:
    """Which of ``candidates`` stand in ``other`` beside ``account_id`` in ``owner`` (two
    columns of one edge table, on the owner's shard): one indexed query there."""
    wanted = list(set(candidates))
    if not wanted:
        return set()
    async with shards.for_id(account_id).read() as conn:
        rows = await conn.execute(select(other).where(owner == account_id, other.in_(wanted)))
        return set(rows.scalars())
