"""Follow and unfollow. The out-edge (on the follower's shard) is the truth; the in-edge on
the followee's shard follows it through the ``graph.sync_in_edge`` job."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select, text

from twoorl.accounts.models import Account
from twoorl.accounts.tables import account_counters
from twoorl.caching.changes import record_change
from twoorl.errors import Forbidden, InvalidInput
from twoorl.graph.blocks import blocks_on, is_blocking
from twoorl.graph.edges import ids_among
from twoorl.graph.tables import blocks, followers, following, mutes
from twoorl.i18n import _
from twoorl.jobs.outbox import enqueue
from twoorl.stats import service as stats
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
    # Blocks: the followee's list is on their shard (a point lookup before the write; a block
    # landing in between is undone by graph.sync_in_edge, which checks again there).
    if await is_blocking(shards, followee.id, follower.id):
        raise Forbidden(
            _("@%(username)s has blocked you, so you cannot follow them.")
            % {"username": followee.username}
        )
    async with shards.for_id(follower.id).write() as conn:
        if await blocks_on(conn, follower.id, followee.id):
            raise Forbidden(
                _("You have blocked @%(username)s. Unblock them to follow them.")
                % {"username": followee.username}
            )
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
        created_at = utcnow()
        created = await insert_if_absent(
            conn, following, follower_id=follower.id, followee_id=followee.id, created_at=created_at
        )
        if created:
            record_change(conn, "followees", follower.id)
            await add_to_counter(conn, account_counters, "account_id", follower.id, "following", 1)
            await stats.count_follow(conn, follower.id, created_at, 1)  # stats, same transaction
            await _queue_sync(conn, follower.id, followee.id)
    return created


async def unfollow(shards: ShardSet, follower: Account, followee: Account) -> bool:
    async with shards.for_id(follower.id).write() as conn:
        removed = await remove_out_edge(conn, follower.id, followee.id)
    return removed


async def remove_out_edge(conn, follower_id: int, followee_id: int) -> bool:
    """Delete the follow ``follower_id`` -> ``followee_id`` on ``conn`` (the follower's shard),
    with its counter, stats and the in-edge sync job; True if there was one."""
    # RETURNING the edge's day, for the stats (a follow counts on the day it was made).
    removed_at = (
        await conn.execute(
            delete(following)
            .where(following.c.follower_id == follower_id, following.c.followee_id == followee_id)
            .returning(following.c.created_at)
        )
    ).scalar()
    if removed_at is None:
        return False
    record_change(conn, "followees", follower_id)
    await add_to_counter(conn, account_counters, "account_id", follower_id, "following", -1)
    await stats.count_follow(conn, follower_id, removed_at, -1)  # stats, same transaction
    await _queue_sync(conn, follower_id, followee_id)
    return True


# Blocks and mutes (reads in ``graph.blocks``). Each is a row on the blocker's (muter's) shard.


async def block(shards: ShardSet, blocker: Account, target: Account) -> bool:
    """Block ``target``: in one transaction on the blocker's shard, the block, the blocker's
    follow of the target undone, and the job that brings the target's shard along (their
    follow of the blocker undone, the ``blocked_by`` in-edge). True if the block is new."""
    if blocker.id == target.id:
        raise InvalidInput(_("You cannot block yourself."))
    async with shards.for_id(blocker.id).write() as conn:
        created = await insert_if_absent(
            conn, blocks, account_id=blocker.id, target_id=target.id, created_at=utcnow()
        )
        _hidden_changed(conn, blocker.id, target.id)
        await remove_out_edge(conn, blocker.id, target.id)
        await queue_block_sync(conn, blocker.id, target.id, owner_id=blocker.id)
    return created


async def unblock(shards: ShardSet, blocker: Account, target: Account) -> bool:
    """Lift a block (follows removed by it stay removed)."""
    async with shards.for_id(blocker.id).write() as conn:
        removed = await _delete_relation(conn, blocks, blocker.id, target.id)
        await queue_block_sync(conn, blocker.id, target.id, owner_id=blocker.id)
    return removed


async def queue_block_sync(conn, blocker_id: int, target_id: int, *, owner_id: int) -> None:
    """Queue ``graph.sync_blocked_by`` on ``conn`` (the shard of ``owner_id``): it brings the
    target's shard in line with the block (the in-edge, and their follow of the blocker
    undone), reading the block itself, so a block and a quick unblock converge in any order."""
    await enqueue(
        conn,
        "graph.sync_blocked_by",
        {"blocker_id": blocker_id, "target_id": target_id},
        owner_id=owner_id,
    )


async def mute(shards: ShardSet, muter: Account, target: Account) -> bool:
    if muter.id == target.id:
        raise InvalidInput(_("You cannot mute yourself."))
    async with shards.for_id(muter.id).write() as conn:
        _hidden_changed(conn, muter.id, target.id)
        return await insert_if_absent(
            conn, mutes, account_id=muter.id, target_id=target.id, created_at=utcnow()
        )


async def unmute(shards: ShardSet, muter: Account, target: Account) -> bool:
    return await _remove_relation(shards, mutes, muter.id, target.id)


async def _remove_relation(shards: ShardSet, table, account_id: int, target_id: int) -> bool:
    async with shards.for_id(account_id).write() as conn:
        return await _delete_relation(conn, table, account_id, target_id)


async def _delete_relation(conn, table, account_id: int, target_id: int) -> bool:
    result = await conn.execute(
        delete(table).where(table.c.account_id == account_id, table.c.target_id == target_id)
    )
    _hidden_changed(conn, account_id, target_id)
    return result.rowcount > 0


def _hidden_changed(conn, account_id: int, target_id: int) -> None:
    # Both see less (or more) of each other: a block hides the blocker from the blocked too.
    record_change(conn, "hidden", account_id)
    record_change(conn, "hidden", target_id)


async def _queue_sync(conn, follower_id: int, followee_id: int) -> None:
    await enqueue(
        conn,
        "graph.sync_in_edge",
        {"follower_id": follower_id, "followee_id": followee_id},
        owner_id=follower_id,
    )


async def is_following(shards: ShardSet, follower_id: int, followee_id: int) -> bool:
    """From the follower's cached followees (the same list their home timeline reads)."""
    return followee_id in await followee_ids(shards, follower_id)


async def followee_ids(shards: ShardSet, account_id: int) -> list[int]:
    """Everyone ``account_id`` follows (the home timeline's authors), cached in this process
    until they follow or unfollow someone."""
    return list(await followee_set(shards, account_id))


async def followee_set(shards: ShardSet, account_id: int) -> frozenset[int]:
    cache = shards.caches.followees
    cached = cache.get(account_id)
    if cached is not None:
        return cached
    drops_before = cache.drops
    async with shards.for_id(account_id).read() as conn:
        if conn.dialect.name == "postgresql":
            # One row holding an array: thousands of followees cost one decode in the
            # driver, not thousands of result rows.
            found = frozenset(await conn.scalar(_PG_FOLLOWEES, {"account_id": account_id}) or ())
        else:
            statement = select(following.c.followee_id).where(following.c.follower_id == account_id)
            found = frozenset((await conn.execute(statement)).scalars())
    cache.put_many({account_id: found}, drops_before)
    return found


_PG_FOLLOWEES = text("SELECT array_agg(followee_id) FROM following WHERE follower_id = :account_id")


async def followed_among(shards: ShardSet, account_id: int, candidates: Iterable[int]) -> set[int]:
    """Which of ``candidates`` ``account_id`` follows, from their followees (one statement on
    their shard when this process has not cached them, none when it has)."""
    return (await followee_set(shards, account_id)).intersection(candidates)


async def followers_among(shards: ShardSet, account_id: int, candidates: Iterable[int]) -> set[int]:
    """Which of ``candidates`` follow ``account_id``, from the in-edges on its shard (kept by a
    job, so a follow made a moment ago may not show yet)."""
    return await ids_among(
        shards, followers.c.followee_id, followers.c.follower_id, account_id, candidates
    )


async def follower_ids(shards: ShardSet, account_id: int) -> list[int]:
    """Everyone who follows ``account_id``, from the in-edges on their own shard (fan-out
    reads this for every post: on PostgreSQL as one array, not a row per follower)."""
    async with shards.for_id(account_id).read() as conn:
        if conn.dialect.name == "postgresql":
            found = await conn.scalar(_PG_FOLLOWERS, {"account_id": account_id})
            return list(found or ())
        rows = await conn.execute(
            select(followers.c.follower_id).where(followers.c.followee_id == account_id)
        )
        return list(rows.scalars())


_PG_FOLLOWERS = text("SELECT array_agg(follower_id) FROM followers WHERE followee_id = :account_id")


async def followers_unless_over(shards: ShardSet, account_id: int, most: int) -> list[int] | None:
    """Everyone who follows ``account_id``, or None when they are more than ``most`` (fan-out
    leaves such authors to read time): on PostgreSQL one statement, which reads the edges
    only when the count allows."""
    async with shards.for_id(account_id).read() as conn:
        if conn.dialect.name == "postgresql":
            row = (
                await conn.execute(
                    _PG_FOLLOWERS_UNLESS_OVER, {"account_id": account_id, "most": most}
                )
            ).one()
            return None if (row.followers or 0) > most else list(row.ids or ())
    if await follower_count(shards, account_id) > most:
        return None
    return await follower_ids(shards, account_id)


_PG_FOLLOWERS_UNLESS_OVER = text(
    "SELECT counted.followers, CASE WHEN coalesce(counted.followers, 0) <= :most THEN "
    "(SELECT array_agg(follower_id) FROM followers WHERE followee_id = :account_id) END AS ids "
    "FROM (SELECT (SELECT followers FROM account_counters WHERE account_id = :account_id) "
    "AS followers) AS counted"
)


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
