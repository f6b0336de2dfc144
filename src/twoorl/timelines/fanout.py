"""Fan-out on write, run by the jobs that follow a post, a repost, a delete or a follow.
Nothing here is needed for correctness (pages are checked against the databases); it keeps
the cached timelines full so that pages come from Redis.
"""

from __future__ import annotations

from twoorl.graph.service import follower_ids, followers_unless_over
from twoorl.storage.shards import ShardSet
from twoorl.timelines.cache import HomeTimelines


async def deliver(
    shards: ShardSet, cache: HomeTimelines | None, post_id: int, author_id: int
) -> int:
    """Push a new post (or repost) into the author's and their followers' timelines; authors
    with more than ``max_followers`` followers are left to read time. Returns the number of
    timelines written."""
    if cache is None:
        return 0
    readers = [author_id]
    if not await cache.is_big(author_id):
        found = await followers_unless_over(shards, author_id, cache.max_followers)
        if found is None:
            await cache.mark_big(author_id)
        else:
            readers += found
    return await cache.push(readers, post_id, author_id)


async def retract(
    shards: ShardSet, cache: HomeTimelines | None, post_id: int, author_id: int
) -> None:
    """Remove a deleted post from the timelines it was pushed into. A big author's posts were
    never pushed; any from before they grew are dropped at read time."""
    if cache is None:
        return
    await cache.forget_post(post_id)
    readers = [author_id]
    if not await cache.is_big(author_id):
        readers += await follower_ids(shards, author_id)
    await cache.retract(readers, post_id, author_id)


async def deleted(cache: HomeTimelines | None, post_id: int) -> None:
    """At once, in the request that deleted it: its copy in Redis goes (its job does the rest)."""
    if cache is not None:
        await cache.forget_post(post_id)


async def followed(cache: HomeTimelines | None, follower_id: int) -> None:
    """A new followee's older posts belong in the follower's timeline: rebuild it."""
    if cache is not None:
        await cache.invalidate(follower_id)


async def unfollowed(cache: HomeTimelines | None, follower_id: int, followee_id: int) -> None:
    if cache is not None:
        await cache.remove_author(follower_id, followee_id)
