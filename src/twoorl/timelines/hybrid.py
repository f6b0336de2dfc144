"""Home timelines from the fan-out cache, with big authors merged in at read time (Twitter's
hybrid), checked against the databases so that a page equals what fan-in would show.

A page is served from the cache when the cache covers it: its entries plus the big
followees' newest posts fill the page above the cache's floor. Entries whose post is gone
or whose author is no longer followed are dropped (and removed from the cache), so a job that
has not run yet, or a race between jobs, does not show a wrong page. (One window remains: a
post deleted by another process is served from its copy in Redis until the delete's job
drops it, milliseconds later; the deleting request drops it at once.) Otherwise, and when the
reader has no cached timeline (new, or back after ``active_days``), the page comes from
fan-in, which also rebuilds the cache: there is no "please wait" state.
"""

from __future__ import annotations

import asyncio

from twoorl.graph.service import followed_among, followee_ids
from twoorl.posts.models import Post
from twoorl.posts.service import get_posts
from twoorl.storage.shards import ShardSet
from twoorl.timelines import fan_in
from twoorl.timelines.cache import HomeTimelines
from twoorl.timelines.paging import Page, PageRequest, page_of

# Extra entries read from the cache, so a few dropped ones don't force a fan-in.
SLACK = 10


async def home(
    shards: ShardSet, cache: HomeTimelines, account_id: int, request: PageRequest
) -> Page:
    wanted = request.limit + 1
    cached = await cache.read(
        account_id, max_id=request.max_id, since_id=request.since_id, count=wanted + SLACK
    )
    if cached is None:
        return await _rebuild(shards, cache, account_id, request)

    entries = cached.entries
    others = {author for _, author in entries} | cached.big_authors
    others.discard(account_id)
    followed = await followed_among(shards, account_id, others)
    current = [(p, a) for p, a in entries if a == account_id or a in followed]
    big_followed = sorted(cached.big_authors & followed)

    async def big_posts() -> list[Post]:
        if not big_followed:
            return []
        return await fan_in.newest_of_authors(shards, big_followed, request)

    found, from_big = await asyncio.gather(_posts(shards, cache, current), big_posts())
    stale = [e for e in entries if e not in current or e[0] not in found]
    if stale:
        await cache.remove_entries(account_id, stale)

    # Every entry above ``complete_above`` within the request's bounds is in hand.
    complete_above = cached.floor
    if cached.truncated and entries:
        complete_above = max(complete_above, entries[-1][0] - 1)
    merged = {p.id: p for p in from_big}
    merged.update((p, found[p]) for p, _ in current if p in found)
    known = [merged[i] for i in sorted(merged, reverse=True) if i > complete_above]
    if len(known) >= wanted or complete_above <= request.lower:
        return page_of(known[:wanted], request)
    # The page reaches below what the cache holds: an older page, or a short cache.
    return await fan_in.home(shards, account_id, request)


async def _posts(
    shards: ShardSet, cache: HomeTimelines, entries: list[tuple[int, int]]
) -> dict[int, Post]:
    """The entries' posts: from this process's cache, then Redis, the rest from their shards
    (and then kept in both). A post that is in none was deleted."""
    local = shards.caches.posts
    found, wanted = local.get_many(post_id for post_id, _ in entries)
    if not wanted:
        return found
    drops_before = local.drops
    from_redis = await cache.cached_posts(wanted)
    local.put_many(from_redis, drops_before)
    found.update(from_redis)
    missing = [post_id for post_id in wanted if post_id not in from_redis]
    if missing:
        loaded = await get_posts(shards, missing)
        await cache.keep_posts(loaded.values())
        found.update(loaded)
    return found


async def _rebuild(
    shards: ShardSet, cache: HomeTimelines, account_id: int, request: PageRequest
) -> Page:
    # Marked first, so posts that commit while fan-in reads are pushed into it meanwhile.
    token = await cache.begin_rebuild(account_id)
    authors = [account_id, *await followee_ids(shards, account_id)]
    found = await fan_in.newest_of_authors(shards, authors, request)
    if request.max_id is None:
        # Fan-in found every post above its last one (or all of them above since_id).
        wanted = request.limit + 1
        floor = found[-1].id - 1 if len(found) >= wanted else request.lower
        await cache.seed(account_id, token, [(p.id, p.author_id) for p in found], floor)
    return page_of(found, request)
