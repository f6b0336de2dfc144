"""Like / unlike and repost / undo repost. The reactor's record is written here, in one
transaction with the job that brings the post's tally, counter and notification along."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, literal, select, union_all
from sqlalchemy.exc import IntegrityError

from twoorl.accounts.models import Account
from twoorl.caching.changes import record_change
from twoorl.errors import Forbidden, NotFound
from twoorl.graph.blocks import is_blocking
from twoorl.i18n import _
from twoorl.ids import logical_shard_of, lowest_id_at, new_id
from twoorl.jobs.outbox import enqueue
from twoorl.posts.models import Post, Reactions
from twoorl.posts.service import get_post
from twoorl.posts.tables import posts
from twoorl.reactions.tables import likes, post_counters, post_likes, post_reposts
from twoorl.storage.shards import ShardSet
from twoorl.storage.sql import insert_if_absent
from twoorl.storage.types import utcnow


async def _original(shards: ShardSet, post_id: int) -> Post:
    post = await get_post(shards, post_id)
    if post is not None and post.is_repost:
        post = await get_post(shards, post.repost_of_id)
    if post is None:
        raise NotFound(_("That post does not exist, or it was deleted."))
    return post


async def _reachable(shards: ShardSet, account: Account, post_id: int) -> Post:
    """The original post, if its author has not blocked ``account`` (the block is on the
    author's shard: the truth, not its in-edge)."""
    post = await _original(shards, post_id)
    if await is_blocking(shards, post.author_id, account.id):
        raise Forbidden(_("This person has blocked you, so you cannot like or repost their posts."))
    return post


async def like(shards: ShardSet, account: Account, post_id: int) -> Post:
    post = await _reachable(shards, account, post_id)
    async with shards.for_id(account.id).write() as conn:
        if await insert_if_absent(
            conn, likes, account_id=account.id, post_id=post.id, created_at=utcnow()
        ):
            await _queue_sync(conn, "reactions.sync_like", account.id, post.id)
    return post


async def unlike(shards: ShardSet, account: Account, post_id: int) -> Post:
    post = await _original(shards, post_id)
    async with shards.for_id(account.id).write() as conn:
        removed = await conn.execute(
            delete(likes).where(likes.c.account_id == account.id, likes.c.post_id == post.id)
        )
        if removed.rowcount:
            await _queue_sync(conn, "reactions.sync_like", account.id, post.id)
    return post


async def repost(shards: ShardSet, account: Account, post_id: int) -> Post:
    post = await _reachable(shards, account, post_id)
    try:
        async with shards.for_id(account.id).write() as conn:
            repost_id = new_id(logical_shard_of(account.id))
            created = await insert_if_absent(
                conn,
                posts,
                id=repost_id,
                author_id=account.id,
                text="",
                repost_of_id=post.id,
                repost_of_account_id=post.author_id,
            )
            if created:
                record_change(conn, "account_counters", account.id)  # their newest post
                record_change(conn, "author_posts", account.id)
                await _queue_sync(
                    conn, "reactions.sync_repost", account.id, post.id, repost_id=repost_id
                )
    except IntegrityError:
        pass  # reposted twice at once: the unique index kept one, whose job is queued
    return post


async def unrepost(shards: ShardSet, account: Account, post_id: int) -> Post:
    post = await _original(shards, post_id)
    async with shards.for_id(account.id).write() as conn:
        removed = await conn.scalar(
            delete(posts)
            .where(posts.c.author_id == account.id, posts.c.repost_of_id == post.id)
            .returning(posts.c.id)
        )
        if removed is not None:
            record_change(conn, "post", removed)
            record_change(conn, "author_posts", account.id)
            record_change(conn, "account_counters", account.id)
            await _queue_sync(conn, "reactions.sync_repost", account.id, post.id, repost_id=removed)
    return post


async def _queue_sync(
    conn, kind: str, account_id: int, post_id: int, *, repost_id: int | None = None
) -> None:
    # ``repost_id`` names the repost row this job was queued for, so the job can take that
    # exact entry out of cached timelines once the row is gone.
    payload = {"account_id": account_id, "post_id": post_id}
    # Until the job has brought the tally along, this person's view of it is corrected.
    record_change(conn, "reacting", f"{account_id}:{post_id}")
    if repost_id is not None:
        payload["repost_id"] = repost_id
    await enqueue(conn, kind, payload, owner_id=account_id)


async def has_liked(shards: ShardSet, account_id: int, post_id: int) -> bool:
    async with shards.for_id(account_id).read() as conn:
        row = await conn.execute(
            select(likes.c.post_id).where(
                likes.c.account_id == account_id, likes.c.post_id == post_id
            )
        )
        return row.first() is not None


async def has_reposted(shards: ShardSet, account_id: int, post_id: int) -> bool:
    return await repost_id_of(shards, account_id, post_id) is not None


async def repost_id_of(shards: ShardSet, account_id: int, post_id: int) -> int | None:
    """The id of ``account_id``'s repost of ``post_id``, if they reposted it."""
    async with shards.for_id(account_id).read() as conn:
        return await conn.scalar(
            select(posts.c.id).where(
                posts.c.author_id == account_id, posts.c.repost_of_id == post_id
            )
        )


async def reactions_for(
    shards: ShardSet, post_ids: Iterable[int], viewer_id: int | None
) -> dict[int, Reactions]:
    """Counts for each post, and whether the viewer liked / reposted it. The tallies come
    from this process's cache (a job's change to a counter drops it), the rest in one query
    per shard; what the viewer did, in one statement on their shard. Only the posts whose
    tally a job has yet to bring in line with the viewer's own reaction are asked again."""
    wanted = sorted(set(post_ids))
    if not wanted:
        return {}
    unsettled: list[int] = []
    if viewer_id is not None:
        pending = shards.caches.reacting
        unsettled = [p for p in wanted if pending.get((viewer_id, p))]
    tallies, (liked, reposted), counted = await asyncio.gather(
        _tallies(shards, wanted),
        _viewer_reactions(shards, viewer_id, wanted),
        _viewer_counted(shards, unsettled, viewer_id),
    )
    # A settled tally counts exactly what the viewer's own rows say.
    like_counted = {p for p in liked if p not in counted} | {
        p for p, kinds in counted.items() if "like" in kinds
    }
    repost_counted = {p for p in reposted if p not in counted} | {
        p for p, kinds in counted.items() if "repost" in kinds
    }

    def own(post_id: int, truth: set[int], counted: set[int]) -> int:
        # Read-your-writes: the tally is brought along by a job, so a person's own like or
        # repost that the tally does not show yet (or still shows after undoing) is corrected
        # for them; everyone else sees the tally.
        return (post_id in truth) - (post_id in counted)

    result = {}
    for post_id in wanted:
        like_count, repost_count, reply_count = tallies.get(post_id, (0, 0, 0))
        result[post_id] = Reactions(
            likes=max(0, like_count + own(post_id, liked, like_counted)),
            reposts=max(0, repost_count + own(post_id, reposted, repost_counted)),
            replies=reply_count,
            liked=post_id in liked,
            reposted=post_id in reposted,
        )
    return result


async def _tallies(shards: ShardSet, wanted: list[int]) -> dict[int, tuple[int, int, int]]:
    """(likes, reposts, replies) of each post: cached, the rest one query per shard."""
    cache = shards.caches.post_counts
    found, missing = cache.get_many(wanted)
    if not missing:
        return found
    drops_before = cache.drops
    groups = shards.group_by_shard(missing)
    columns = (
        post_counters.c.post_id,
        post_counters.c.likes,
        post_counters.c.reposts,
        post_counters.c.replies,
    )

    async def fetch(shard, conn):
        statement = select(*columns).where(post_counters.c.post_id.in_(groups[shard]))
        return (await conn.execute(statement)).all()

    loaded = dict.fromkeys(missing, (0, 0, 0))
    for rows in await shards.gather(fetch, groups.keys()):
        loaded.update((row[0], (row[1], row[2], row[3])) for row in rows)
    cache.put_many(loaded, drops_before)
    return found | loaded


# What a person did to recent posts is kept as one set per person (``RecentReactions``):
# new posts reach every reader's pages at once, and without it each of them would cost a
# statement on each reader's shard. Posts minted in the last ``RECENT_DAYS`` days, and no
# more than ``RECENT_LIMIT`` likes and reposts of a person who reacts a lot.
RECENT_DAYS = 3
RECENT_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class RecentReactions:
    floor: int  # for every post id >= floor, exactly these
    liked: frozenset[int]
    reposted: frozenset[int]


async def _viewer_reactions(
    shards: ShardSet, viewer_id: int | None, wanted: list[int]
) -> tuple[set[int], set[int]]:
    """Which of ``wanted`` the viewer liked and reposted: recent posts from the viewer's set,
    older ones cached per person and post (each reaction and its undoing drop both,
    ``_queue_sync``), and whatever is not cached in one statement on the viewer's shard."""
    if viewer_id is None:
        return set(), set()
    recent = shards.caches.recent_reactions.get(viewer_id)
    older = [p for p in wanted if recent is None or p < recent.floor]
    cache = shards.caches.viewer_reactions
    found, missing = cache.get_many((viewer_id, post_id) for post_id in older)
    if recent is None or missing:
        loaded, recent = await _load_reactions(shards, viewer_id, [p for _, p in missing], recent)
        found.update(loaded)
    liked = {post_id for (_, post_id), (like, _) in found.items() if like}
    reposted = {post_id for (_, post_id), (_, repost) in found.items() if repost}
    for post_id in wanted:
        if post_id >= recent.floor:
            if post_id in recent.liked:
                liked.add(post_id)
            if post_id in recent.reposted:
                reposted.add(post_id)
    return liked, reposted


async def _load_reactions(
    shards: ShardSet, viewer_id: int, asked: list[int], recent: RecentReactions | None
) -> tuple[dict[tuple[int, int], tuple[bool, bool]], RecentReactions]:
    """The viewer's reactions to ``asked`` and, unless ``recent`` is given, their recent
    set: one statement on their shard, stored in both caches."""
    parts = []
    if asked:
        parts += [
            select(likes.c.post_id, literal("like").label("kind")).where(
                likes.c.account_id == viewer_id, likes.c.post_id.in_(asked)
            ),
            select(posts.c.repost_of_id, literal("repost").label("kind")).where(
                posts.c.author_id == viewer_id, posts.c.repost_of_id.in_(asked)
            ),
        ]
    floor = lowest_id_at(int(time.time() * 1000) - RECENT_DAYS * 86_400_000)
    if recent is None:
        parts += [_newest(likes.c.post_id, likes.c.account_id, viewer_id, floor, "recent like")]
        parts += [
            _newest(posts.c.repost_of_id, posts.c.author_id, viewer_id, floor, "recent repost")
        ]
    per_post, sets = shards.caches.viewer_reactions, shards.caches.recent_reactions
    drops_before, set_drops_before = per_post.drops, sets.drops
    async with shards.for_id(viewer_id).read() as conn:
        rows = (await conn.execute(union_all(*parts))).all()
    did = {(post_id, kind) for post_id, kind in rows}
    loaded = {(viewer_id, p): ((p, "like") in did, (p, "repost") in did) for p in asked}
    per_post.put_many(loaded, drops_before)
    if recent is None:
        liked = [p for p, kind in rows if kind == "recent like"]
        reposted = [p for p, kind in rows if kind == "recent repost"]
        # A person with more than the limit: the set covers only what the limit reached.
        for found in (liked, reposted):
            if len(found) >= RECENT_LIMIT:
                floor = max(floor, min(found))
        recent = RecentReactions(
            floor,
            frozenset(p for p in liked if p >= floor),
            frozenset(p for p in reposted if p >= floor),
        )
        sets.put_many({viewer_id: recent}, set_drops_before)
    return loaded, recent


def _newest(column, owner, viewer_id: int, floor: int, kind: str):
    newest = (
        select(column.label("post_id"))
        .where(owner == viewer_id, column >= floor)
        .order_by(column.desc())
        .limit(RECENT_LIMIT)
        .subquery()
    )
    return select(newest.c.post_id, literal(kind).label("kind"))


async def _viewer_counted(
    shards: ShardSet, unsettled: list[int], viewer_id: int | None
) -> dict[int, set[str]]:
    """For posts the viewer just reacted to: whether each tally counts them yet ("like",
    "repost"), from the posts' shards. Every unsettled post gets an entry."""
    counted: dict[int, set[str]] = {p: set() for p in unsettled}
    if not unsettled or viewer_id is None:
        return counted
    groups = shards.group_by_shard(unsettled)

    async def fetch(shard, conn):
        statement = union_all(
            *(
                select(tally.c.post_id, literal(kind).label("kind")).where(
                    tally.c.account_id == viewer_id, tally.c.post_id.in_(groups[shard])
                )
                for tally, kind in ((post_likes, "like"), (post_reposts, "repost"))
            )
        )
        return (await conn.execute(statement)).all()

    for rows in await shards.gather(fetch, groups.keys()):
        for post_id, kind in rows:
            counted[post_id].add(kind)
    return counted


async def reactors_window(
    shards: ShardSet,
    post_id: int,
    kind: str,
    *,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
    limit: int,
) -> tuple[list[int], bool]:
    """Who liked (``kind="likes"``) or reposted (``"reposts"``) a post, as the API pages
    them by account id: highest first, below ``max_id`` and above ``since_id``; with
    ``min_id``, the lowest ones above it (still highest first). Returns the ids and whether
    lower ones remain."""
    table = post_likes if kind == "likes" else post_reposts
    query = select(table.c.account_id).where(table.c.post_id == post_id)
    if max_id is not None:
        query = query.where(table.c.account_id < max_id)
    if since_id is not None:
        query = query.where(table.c.account_id > since_id)
    ascending = min_id is not None
    if ascending:
        query = query.where(table.c.account_id > min_id).order_by(table.c.account_id.asc())
    else:
        query = query.order_by(table.c.account_id.desc())
    async with shards.for_id(post_id).read() as conn:
        ids = list((await conn.execute(query.limit(limit + 1))).scalars())
    if ascending:
        return ids[:limit][::-1], True
    return ids[:limit], len(ids) > limit
