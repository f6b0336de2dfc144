"""Keeps the in-edge on the followee's shard equal to the out-edge on the follower's shard.

Reading the out-edge (the truth) instead of trusting the job's intent makes the handler
idempotent and order-free: a follow and a quick unfollow converge whichever job runs first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from twoorl.accounts.tables import account_counters
from twoorl.graph.service import is_following
from twoorl.graph.tables import followers
from twoorl.jobs.registry import handles
from twoorl.storage.shards import ShardSet
from twoorl.storage.sql import add_to_counter, insert_if_absent
from twoorl.storage.types import utcnow


@handles("graph.sync_in_edge")
async def sync_in_edge(shards: ShardSet, payload: dict[str, Any]) -> None:
    follower_id, followee_id = payload["follower_id"], payload["followee_id"]
    should_exist = await is_following(shards, follower_id, followee_id)
    async with shards.for_id(followee_id).write() as conn:
        if should_exist:
            changed = await insert_if_absent(
                conn,
                followers,
                followee_id=followee_id,
                follower_id=follower_id,
                created_at=utcnow(),
            )
            delta = 1
        else:
            result = await conn.execute(
                delete(followers).where(
                    followers.c.followee_id == followee_id, followers.c.follower_id == follower_id
                )
            )
            changed, delta = result.rowcount > 0, -1
        if changed:
            await add_to_counter(
                conn, account_counters, "account_id", followee_id, "followers", delta
            )
