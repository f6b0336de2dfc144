"""After-the-fact work for posts: mention records and notifications on the mentioned people's
shards, reply links and counters on the parent's shard, live publication; and on delete, the
same undone, with the post's likes and reposts.

Handlers are idempotent (insert-if-absent, delete-if-present), since jobs run at least once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from twoorl.accounts import service as accounts
from twoorl.caching.changes import record_change
from twoorl.graph.blocks import blocks_on
from twoorl.jobs.registry import JobContext, handles
from twoorl.notifications.service import Kind, notify, withdraw_for_post
from twoorl.posts.service import get_post
from twoorl.posts.tables import mentions, posts, replies
from twoorl.posts.text import mentioned_usernames
from twoorl.reactions.tables import likes, post_counters, post_likes, post_reposts
from twoorl.storage.shards import ShardSet
from twoorl.storage.sql import add_to_counter, insert_if_absent
from twoorl.timelines import fanout


async def _mentioned_ids(
    shards: ShardSet, text: str, author_id: int, reply_to: int | None
) -> set[int]:
    found = await accounts.ids_for_usernames(shards, mentioned_usernames(text))
    ids = set(found.values())
    if reply_to:
        ids.add(reply_to)  # a reply reaches the person replied to, as a mention does
    ids.discard(author_id)
    return ids


@handles("posts.link")
async def link_post(ctx: JobContext, payload: dict[str, Any]) -> None:
    shards = ctx.shards
    post = await get_post(shards, payload["post_id"])
    if post is None:
        return  # deleted before we got here; posts.unlink cleans up
    told: list[int] = []
    for account_id in await _mentioned_ids(
        shards, post.text, post.author_id, post.in_reply_to_account_id
    ):
        kind = Kind.REPLY if account_id == post.in_reply_to_account_id else Kind.MENTION
        async with shards.for_id(account_id).write() as conn:
            if await blocks_on(conn, account_id, post.author_id):
                continue  # blocked: no mention row (their mentions page), no notification
            await insert_if_absent(conn, mentions, account_id=account_id, post_id=post.id)
            if await notify(
                conn, recipient_id=account_id, kind=kind, actor_id=post.author_id, post_id=post.id
            ):
                told.append(account_id)
    if post.in_reply_to_id:
        async with shards.for_id(post.in_reply_to_id).write() as conn:
            if await insert_if_absent(
                conn, replies, parent_id=post.in_reply_to_id, reply_id=post.id
            ):
                await add_to_counter(
                    conn, post_counters, "post_id", post.in_reply_to_id, "replies", 1
                )
    for account_id in told:
        await ctx.broker.publish(f"notifications:{account_id}", {"type": "notification"})
    # Into the cached timelines before the live event, so "show new posts" finds it there.
    await fanout.deliver(shards, ctx.timelines, post.id, post.author_id)
    author = await accounts.get_by_id(shards, post.author_id)
    await ctx.broker.publish(
        "posts",
        {
            "type": "post",
            "author_id": post.author_id,
            "post_id": post.id,
            # A spammer's or suspended person's post stays out of the shared (public, tag)
            # streams, as it does out of those timelines; followers' home streams still get it.
            "shared": author is not None and not (author.spam or author.suspended),
        },
    )


@handles("posts.unlink")
async def unlink_post(ctx: JobContext, payload: dict[str, Any]) -> None:
    shards = ctx.shards
    post_id = payload["post_id"]
    parent_id = payload.get("in_reply_to_id")
    targets = await _mentioned_ids(
        shards, payload["text"], payload["author_id"], payload.get("in_reply_to_account_id")
    )
    for shard, ids in shards.group_by_shard(targets).items():
        async with shard.write() as conn:
            await conn.execute(
                delete(mentions).where(
                    mentions.c.post_id == post_id, mentions.c.account_id.in_(ids)
                )
            )
            await withdraw_for_post(conn, ids, post_id)
    if parent_id:
        async with shards.for_id(parent_id).write() as conn:
            removed = await conn.execute(
                delete(replies).where(
                    replies.c.parent_id == parent_id, replies.c.reply_id == post_id
                )
            )
            if removed.rowcount:
                await add_to_counter(conn, post_counters, "post_id", parent_id, "replies", -1)
    await fanout.retract(shards, ctx.timelines, post_id, payload["author_id"])
    await _forget_reactions(ctx, post_id, payload["author_id"])


async def _forget_reactions(ctx: JobContext, post_id: int, author_id: int) -> None:
    """Remove the likes and reposts of a deleted post, on every reactor's shard, then its
    tallies (last, so a retry after a crash still knows whom to visit)."""
    shards = ctx.shards
    async with shards.for_id(post_id).read() as conn:
        likers = list(
            (
                await conn.execute(
                    select(post_likes.c.account_id).where(post_likes.c.post_id == post_id)
                )
            ).scalars()
        )
        reposters = list(
            (
                await conn.execute(
                    select(post_reposts.c.account_id).where(post_reposts.c.post_id == post_id)
                )
            ).scalars()
        )
    for shard, ids in shards.group_by_shard(likers).items():
        async with shard.write() as conn:
            await conn.execute(
                delete(likes).where(likes.c.post_id == post_id, likes.c.account_id.in_(ids))
            )
    for shard, ids in shards.group_by_shard(reposters).items():
        async with shard.write() as conn:
            removed = await conn.execute(
                delete(posts)
                .where(posts.c.repost_of_id == post_id, posts.c.author_id.in_(ids))
                .returning(posts.c.id, posts.c.author_id)
            )
            gone = removed.all()
            for repost_id, reposter_id in gone:
                record_change(conn, "post", repost_id)
                record_change(conn, "author_posts", reposter_id)
        for repost_id, reposter_id in gone:
            await fanout.retract(shards, ctx.timelines, repost_id, reposter_id)
    async with shards.for_id(post_id).write() as conn:
        for table in (post_likes, post_reposts):
            await conn.execute(delete(table).where(table.c.post_id == post_id))
        await conn.execute(delete(post_counters).where(post_counters.c.post_id == post_id))
        await withdraw_for_post(conn, [author_id], post_id)
