"""Bring a post's tally, counter and notification in line with the reactor's record.

Each handler locks the (reaction, post, reactor) key on the post's shard, then reads the
truth from the reactor's shard: a like and a quick unlike converge whichever job runs first,
and concurrent likes by many people keep the counter exact.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete

from twoorl.caching.changes import record_change
from twoorl.jobs.registry import JobContext, handles
from twoorl.notifications.service import Kind, notify, withdraw
from twoorl.posts.service import get_post
from twoorl.posts.tables import posts
from twoorl.reactions import service
from twoorl.reactions.tables import likes, post_counters, post_likes, post_reposts
from twoorl.storage.sql import add_to_counter, insert_if_absent, lock_for_transaction
from twoorl.timelines import fanout


async def _sync(
    ctx: JobContext,
    payload: dict[str, Any],
    *,
    tally: Table,
    counter: str,
    kind: Kind,
    exists,
    forget,
) -> None:
    account_id, post_id = payload["account_id"], payload["post_id"]
    post = await get_post(ctx.shards, post_id)
    if post is None:
        # Deleted before this job ran, so posts.unlink did not know this reactor: the
        # reaction to a post that no longer exists goes too.
        async with ctx.shards.for_id(account_id).write() as conn:
            await conn.execute(forget(account_id, post_id))
            record_change(conn, "author_posts", account_id)  # a repost row may have gone
        return
    notified = False
    async with ctx.shards.for_id(post_id).write() as conn:
        await lock_for_transaction(conn, kind, post_id, account_id)
        record_change(conn, "reacted", f"{account_id}:{post_id}")  # the tally is in line
        if await exists(ctx.shards, account_id, post_id):
            changed = await insert_if_absent(conn, tally, post_id=post_id, account_id=account_id)
            if changed:
                await add_to_counter(conn, post_counters, "post_id", post_id, counter, 1)
            notified = await notify(
                conn, recipient_id=post.author_id, kind=kind, actor_id=account_id, post_id=post_id
            )
        else:
            result = await conn.execute(
                delete(tally).where(tally.c.post_id == post_id, tally.c.account_id == account_id)
            )
            if result.rowcount:
                await add_to_counter(conn, post_counters, "post_id", post_id, counter, -1)
            await withdraw(
                conn, recipient_id=post.author_id, kind=kind, actor_id=account_id, post_id=post_id
            )
    if notified:
        await ctx.broker.publish(f"notifications:{post.author_id}", {"type": "notification"})


@handles("reactions.sync_like")
async def sync_like(ctx: JobContext, payload: dict[str, Any]) -> None:
    await _sync(
        ctx,
        payload,
        tally=post_likes,
        counter="likes",
        kind=Kind.LIKE,
        exists=service.has_liked,
        forget=lambda account_id, post_id: delete(likes).where(
            likes.c.account_id == account_id, likes.c.post_id == post_id
        ),
    )


@handles("reactions.sync_repost")
async def sync_repost(ctx: JobContext, payload: dict[str, Any]) -> None:
    await _sync(
        ctx,
        payload,
        tally=post_reposts,
        counter="reposts",
        kind=Kind.REPOST,
        exists=service.has_reposted,
        forget=lambda account_id, post_id: delete(posts).where(
            posts.c.author_id == account_id, posts.c.repost_of_id == post_id
        ),
    )
    account_id = payload["account_id"]
    current = await service.repost_id_of(ctx.shards, account_id, payload["post_id"])
    queued_for = payload.get("repost_id")
    if queued_for is not None and queued_for != current:
        await fanout.retract(ctx.shards, ctx.timelines, queued_for, account_id)
    if current is not None:
        await fanout.deliver(ctx.shards, ctx.timelines, current, account_id)
        await ctx.broker.publish(
            "posts",
            {
                "type": "post",
                "author_id": payload["account_id"],
                "post_id": payload["post_id"],
                "repost": True,
            },
        )
