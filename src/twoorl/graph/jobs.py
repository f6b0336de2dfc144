"""Keeps the in-edge on the followee's shard equal to the out-edge on the follower's shard,
with the followee's counter and "followed you" notification.

The handler locks the edge on the followee's shard, then reads the out-edge (the truth): a
follow and a quick unfollow converge whichever job runs first, even on different workers.
A block's job does the same for the blocked person's shard.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from twoorl.accounts.tables import account_counters
from twoorl.caching.changes import record_change
from twoorl.graph.blocks import blocks_on, is_blocking
from twoorl.graph.service import is_following, queue_block_sync, remove_out_edge
from twoorl.graph.tables import blocked_by, followers
from twoorl.jobs.registry import JobContext, handles
from twoorl.notifications.service import Kind, notify, withdraw
from twoorl.storage.sql import add_to_counter, insert_if_absent, lock_for_transaction
from twoorl.storage.types import utcnow
from twoorl.timelines import fanout


@handles("graph.sync_in_edge")
async def sync_in_edge(ctx: JobContext, payload: dict[str, Any]) -> None:
    follower_id, followee_id = payload["follower_id"], payload["followee_id"]
    notified = False
    async with ctx.shards.for_id(followee_id).write() as conn:
        await lock_for_transaction(conn, "follow", follower_id, followee_id)
        blocked = await blocks_on(conn, followee_id, follower_id)  # blocks: followee's shard
        if blocked:
            # A follow that raced a block: no in-edge, and the out-edge goes too.
            await queue_block_sync(conn, followee_id, follower_id, owner_id=followee_id)
        if not blocked and await is_following(ctx.shards, follower_id, followee_id):
            changed = await insert_if_absent(
                conn,
                followers,
                followee_id=followee_id,
                follower_id=follower_id,
                created_at=utcnow(),
            )
            delta = 1
            notified = await notify(
                conn, recipient_id=followee_id, kind=Kind.FOLLOW, actor_id=follower_id
            )
        else:
            result = await conn.execute(
                delete(followers).where(
                    followers.c.followee_id == followee_id, followers.c.follower_id == follower_id
                )
            )
            changed, delta = result.rowcount > 0, -1
            await withdraw(conn, recipient_id=followee_id, kind=Kind.FOLLOW, actor_id=follower_id)
        if changed:
            await add_to_counter(
                conn, account_counters, "account_id", followee_id, "followers", delta
            )
    if delta == 1:
        await fanout.followed(ctx.timelines, follower_id)
    else:
        await fanout.unfollowed(ctx.timelines, follower_id, followee_id)
    if notified:
        await ctx.broker.publish(f"notifications:{followee_id}", {"type": "notification"})
    # Open home streams of the follower reload whom they follow.
    await ctx.broker.publish(f"follows:{follower_id}", {"type": "follows"})


@handles("graph.sync_blocked_by")
async def sync_blocked_by(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Bring the blocked person's shard in line with the block (the truth, on the blocker's
    shard): while it holds, the ``blocked_by`` in-edge is there and their follow of the
    blocker is gone (with its counter and in-edge sync, as an unfollow); once lifted, the
    in-edge goes (follows removed by it stay removed). Idempotent and order-proof, as
    ``sync_in_edge``; then the blocked person's open streams reload whom they do not see."""
    blocker_id, target_id = payload["blocker_id"], payload["target_id"]
    unfollowed = False
    async with ctx.shards.for_id(target_id).write() as conn:
        await lock_for_transaction(conn, "block", blocker_id, target_id)
        record_change(conn, "hidden", target_id)  # whom they are blocked by changes here
        if await is_blocking(ctx.shards, blocker_id, target_id):
            await insert_if_absent(
                conn, blocked_by, account_id=target_id, blocker_id=blocker_id, created_at=utcnow()
            )
            unfollowed = await remove_out_edge(conn, target_id, blocker_id)
        else:
            await conn.execute(
                delete(blocked_by).where(
                    blocked_by.c.account_id == target_id, blocked_by.c.blocker_id == blocker_id
                )
            )
    if unfollowed:
        await fanout.unfollowed(ctx.timelines, target_id, blocker_id)
    await ctx.broker.publish(f"follows:{target_id}", {"type": "follows"})
