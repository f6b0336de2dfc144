"""After-the-fact work for posts: mention records and reply links on other shards.

Handlers are idempotent (insert-if-absent, delete-if-present), since jobs run at least once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from twoorl.accounts import service as accounts
from twoorl.jobs.registry import handles
from twoorl.posts.service import get_post
from twoorl.posts.tables import mentions, replies
from twoorl.posts.text import mentioned_usernames
from twoorl.storage.shards import ShardSet
from twoorl.storage.sql import insert_if_absent


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
async def link_post(shards: ShardSet, payload: dict[str, Any]) -> None:
    post = await get_post(shards, payload["post_id"])
    if post is None:
        return  # deleted before we got here; posts.unlink cleans up
    for account_id in await _mentioned_ids(
        shards, post.text, post.author_id, post.in_reply_to_account_id
    ):
        async with shards.for_id(account_id).write() as conn:
            await insert_if_absent(conn, mentions, account_id=account_id, post_id=post.id)
    if post.in_reply_to_id:
        async with shards.for_id(post.in_reply_to_id).write() as conn:
            await insert_if_absent(conn, replies, parent_id=post.in_reply_to_id, reply_id=post.id)


@handles("posts.unlink")
async def unlink_post(shards: ShardSet, payload: dict[str, Any]) -> None:
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
    if parent_id:
        async with shards.for_id(parent_id).write() as conn:
            await conn.execute(
                delete(replies).where(
                    replies.c.parent_id == parent_id, replies.c.reply_id == post_id
                )
            )
