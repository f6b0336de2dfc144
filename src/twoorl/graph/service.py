"""Follow and unfollow. The out-edge (on the follower's shard) is the truth; the in-edge on
the followee's shard follows it through the ``graph.sync_in_edge`` job."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select, text

from twoorl.accounts.models import Account
from twoorl.accounts.tables import account_counters
from twoorl.errors import InvalidInput
from twoorl.graph.tables import followers, following
from twoorl.i18n import _
from twoorl.jobs.outbox import enqueue
from twoorl.storage.shards import ShardSet
from twoorl.storage.sql import add_to_counter, insert_if_absent
from twoorl.storage.types import utcnow

MAX_FOLLOWING = 10_000


@dataclass(frozen=True)
class EdgePage:
    account_ids: list[int]
    next_cursor: int | None  # pass as ``before`` for the next page


async def follow(shards: ShardSet, follower: Account, followee: Account) -> bool:
    """Follow ``followee``; True if this created the edge, False if it already existed."""
    if follower.id == followee.id:
        raise InvalidInput(_("You cannot follow yourself."))
    async with shards.for_id(follower.id).write() as conn:
        count = (
            await conn.execute(
                select(account_counters.c.following).where(
                    account_counters.c.account_id == follower.id
                )
            )
        ).scalar()
        if (count or 0) >= MAX_FOLLOWING:
            raise InvalidInput(
                _("You follow %(count)d people already, the most allowed.")
                % {"count": MAX_FOLLOWING}
            )
        created = await insert_if_absent(
            conn, following, follower_id=follower.id, followee_id=followee.id, created_at=utcnow()
        )
        if created:
            await add_to_counter(conn, account_counters, "account_id", follower.id, "following", 1)
            await _queue_sync(conn, follower.id, followee.id)
    return created


async def unfollow(shards: ShardSet, follower: Account, followee: Account) -> bool:
    async with shards.for_id(follower.id).write() as conn:
        removed = (
            await conn.execute(
                delete(following).where(
                    following.c.follower_id == follower.id, following.c.followee_id == followee.id
                )
            )
        ).rowcount > 0
        if removed:
            await add_to_counter(conn, account_counters, "account_id", follower.id, "following", -1)
            await _queue_sync(conn, follower.id, followee.id)
    return removed


async def _queue_sync(conn, follower_id: int, followee_id: int) -> None:
    await enqueue(
        conn,
        "graph.sync_in_edge",
        {"follower_id": follower_id, "followee_id": followee_id},
        owner_id=follower_id,
    )


async def is_following(shards: ShardSet, follower_id: int, followee_id: int) -> bool:
    async with shards.for_id(follower_id).read() as conn:
        row = (
            await conn.execute(
                select(following.c.followee_id).where(
                    following.c.follower_id == follower_id, following.c.followee_id == followee_id
                )
            )
        ).first()
    return row is not None


async def followee_ids(shards: ShardSet, account_id: int) -> list[int]:
    """Everyone ``account_id`` follows (the home timeline's authors)."""
    async with shards.for_id(account_id).read() as conn:
        if conn.dialect.name == "postgresql":
            # One row holding an array: thousands of followees cost one decode in the
            # driver, not thousands of result rows.
            found = await conn.scalar(_PG_FOLLOWEES, {"account_id": account_id})
            return list(found or ())
        return list(
            (
                await conn.execute(
                    select(following.c.followee_id).where(following.c.follower_id == account_id)
                )
            ).scalars()
        )


_PG_FOLLOWEES = text("SELECT array_agg(followee_id) FROM following WHERE follower_id = :account_id")


async def followed_among(shards: ShardSet, account_id: int, candidates: Iterable[int]) -> set[int]:
    """Which of ``candidates`` ``account_id`` follows: one indexed query on their shard."""
    wanted = list(set(candidates))
    if not wanted:
        return set()
    async with shards.for_id(account_id).read() as conn:
        rows = await conn.execute(
            select(following.c.followee_id).where(
                following.c.follower_id == account_id, following.c.followee_id.in_(wanted)
            )
        )
        return set(rows.scalars())


async def followers_among(shards: ShardSet, account_id: int, candidates: Iterable[int]) -> set[int]:
    """Which of ``candidates`` follow ``account_id``, from the in-edges on its shard (kept by a
    job, so a follow made a moment ago may not show yet)."""
    wanted = list(set(candidates))
    if not wanted:
        return set()
    async with shards.for_id(account_id).read() as conn:
        rows = await conn.execute(
            select(followers.c.follower_id).where(
                followers.c.followee_id == account_id, followers.c.follower_id.in_(wanted)
            )
        )
        return set(rows.scalars())


async def follower_ids(shards: ShardSet, account_id: int) -> list[int]:
    """Everyone who follows ``account_id``, from the in-edges on their own shard."""
    async with shards.for_id(account_id).read() as conn:
        rows = await conn.execute(
            select(followers.c.follower_id).where(followers.c.followee_id == account_id)
        )
        return list(rows.scalars())


async def follower_count(shards: ShardSet, account_id: int) -> int:
    async with shards.for_id(account_id).read() as conn:
        count = await conn.scalar(
            select(account_counters.c.followers).where(account_counters.c.account_id == account_id)
        )
    return count or 0


async def following_page(
    shards: ShardSet, account_id: int, *, before: int | None, limit: int
) -> EdgePage:
    return await _edge_page(
        shards,
        following,
        following.c.follower_id,
        following.c.followee_id,
        account_id,
        before,
        limit,
    )


async def followers_page(
    shards: ShardSet, account_id: int, *, before: int | None, limit: int
) -> EdgePage:
    return await _edge_page(
        shards,
        followers,
        followers.c.followee_id,
        followers.c.follower_id,
        account_id,
        before,
        limit,
    )


async def _edge_page(shards, table, owner_col, other_col, account_id, before, limit) -> EdgePage:
    # Paged by the other account's id (a snowflake): stable under inserts, no OFFSET.
    query = select(other_col).where(owner_col == account_id).order_by(other_col.desc())
    if before is not None:
        query = query.where(other_col < before)
    async with shards.for_id(account_id).read() as conn:
        ids = list((await conn.execute(query.limit(limit + 1))).scalars())
    more = len(ids) > limit
    ids = ids[:limit]
    return EdgePage(ids, ids[-1] if more else None)
