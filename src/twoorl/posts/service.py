"""Creating, reading and deleting posts, and threads."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from twoorl.accounts.models import Account
from twoorl.accounts.tables import account_counters
from twoorl.caching.changes import record_change
from twoorl.errors import Forbidden, InvalidInput, NotFound
from twoorl.graph.blocks import is_blocking  # blocks: the reply check in create_post
from twoorl.i18n import _, ngettext
from twoorl.ids import is_valid, logical_shard_of, lowest_id_at, new_id
from twoorl.jobs.outbox import enqueue
from twoorl.posts.models import Post
from twoorl.posts.tables import post_idempotency_keys, post_tags, posts, replies
from twoorl.posts.text import hashtags, strip_control_characters, visible_length
from twoorl.stats import service as stats
from twoorl.storage.shards import ShardSet
from twoorl.storage.sql import add_to_counter, insert_if_absent

MAX_THREAD_ANCESTORS = 40
MAX_THREAD_REPLIES = 200
MAX_THREAD_DEPTH = 20  # levels of replies below a post that ``descendants`` reads
RECENT_MS = 10 * 60 * 1000  # how far back a viewer's own not-yet-linked replies are looked for


def clean_text(text: str, max_length: int) -> str:
    text = strip_control_characters(text.replace("\r\n", "\n")).strip()
    if not text:
        raise InvalidInput(_("Write something first: an empty post says nothing."), field="status")
    length = visible_length(text)
    if length > max_length:
        raise InvalidInput(
            ngettext(
                "That post is %(over)d character too long (the limit is %(limit)d).",
                "That post is %(over)d characters too long (the limit is %(limit)d).",
                length - max_length,
            )
            % {"over": length - max_length, "limit": max_length},
            field="status",
        )
    return text


async def create_post(
    shards: ShardSet,
    author: Account,
    text: str,
    *,
    max_length: int,
    in_reply_to_id: int | None = None,
    idempotency_key: str | None = None,
) -> Post:
    """A new post. With ``idempotency_key``, a repeat of the same request (a client retrying
    after a lost answer) returns the post the first one made. Suspended people cannot post
    (their sessions and tokens end at suspension; this closes the race for every caller)."""
    if author.suspended:
        raise Forbidden(_("This account is suspended. It cannot sign in or post."))
    key_hash = hashlib.sha256(idempotency_key.encode()).hexdigest() if idempotency_key else None
    if key_hash and (earlier := await _post_for_key(shards, author.id, key_hash)):
        return earlier
    text = clean_text(text, max_length)
    parent = await get_post(shards, in_reply_to_id) if in_reply_to_id is not None else None
    if in_reply_to_id is not None and parent is None:
        raise NotFound(_("The post you are replying to no longer exists."), field="in_reply_to_id")
    # Blocks: nobody replies to a person who blocked them (their list is on their shard).
    if parent is not None and await is_blocking(shards, parent.author_id, author.id):
        raise Forbidden(_("This person has blocked you, so you cannot reply to them."))
    shard = shards.for_id(author.id)
    # A spammer's new posts leave the shared timelines like their old ones.
    hidden = author.spam or author.suspended
    for _attempt in range(3):
        post = Post(
            id=new_id(logical_shard_of(author.id)),
            author_id=author.id,
            text=text,
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_account_id=parent.author_id if parent else None,
        )
        try:
            async with shard.write() as conn:
                row = {
                    "id": post.id,
                    "author_id": post.author_id,
                    "text": post.text,
                    "in_reply_to_id": post.in_reply_to_id,
                    "in_reply_to_account_id": post.in_reply_to_account_id,
                    "hidden": hidden,
                }
                await conn.execute(INSERT_POST, row)
                if not hidden:  # the public timeline takes it in by id (``windows``)
                    record_change(conn, "public_post", post.id)
                record_change(conn, "author_posts", author.id)  # their followers' home windows
                tags = hashtags(text)
                if tags:
                    await conn.execute(
                        INSERT_POST_TAG, [{"tag": tag, "post_id": post.id} for tag in tags]
                    )
                await add_to_counter(conn, account_counters, "account_id", author.id, "posts", 1)
                await stats.count_post(conn, post.id, author.id, 1)  # stats, same transaction
                await enqueue(conn, "posts.link", {"post_id": post.id}, owner_id=author.id)
                if key_hash and not await _claim_key(conn, author.id, key_hash, post.id):
                    raise _SameRequestRacedUs  # rolls this post back
            return post
        except IntegrityError:
            continue  # an id collision with another process: mint a new id and try again
        except _SameRequestRacedUs:
            earlier = await _post_for_key(shards, author.id, key_hash or "")
            if earlier:
                return earlier
    raise RuntimeError("could not allocate a post id")


# Built once: the parameters name the columns (an insert construct per post is more Python
# than the statement's run).
INSERT_POST = insert(posts)
INSERT_POST_TAG = insert(post_tags)


class _SameRequestRacedUs(Exception):
    """Two requests with one idempotency key ran at once; the other one committed first."""


IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000


async def _post_for_key(shards: ShardSet, author_id: int, key_hash: str) -> Post | None:
    async with shards.for_id(author_id).read() as conn:
        post_id = (
            await conn.execute(
                select(post_idempotency_keys.c.post_id).where(
                    post_idempotency_keys.c.account_id == author_id,
                    post_idempotency_keys.c.key_hash == key_hash,
                )
            )
        ).scalar()
    return await get_post(shards, post_id) if post_id else None


async def _claim_key(conn, author_id: int, key_hash: str, post_id: int) -> bool:
    # Post ids carry their time, so expiring old keys needs no timestamp column.
    await conn.execute(
        delete(post_idempotency_keys).where(
            post_idempotency_keys.c.account_id == author_id,
            post_idempotency_keys.c.post_id
            < lowest_id_at(int(time.time() * 1000) - IDEMPOTENCY_WINDOW_MS),
        )
    )
    return await insert_if_absent(
        conn, post_idempotency_keys, account_id=author_id, key_hash=key_hash, post_id=post_id
    )


async def get_post(shards: ShardSet, post_id: int | None) -> Post | None:
    if post_id is None or not is_valid(post_id):
        return None
    return (await get_posts(shards, [post_id])).get(post_id)


async def get_posts(shards: ShardSet, post_ids: Iterable[int]) -> dict[int, Post]:
    """The posts that exist among ``post_ids``: from this process's cache (posts change only
    by being deleted, which drops them), the rest in one query per shard that holds some."""
    cache = shards.caches.posts
    found, missing = cache.get_many(i for i in set(post_ids) if is_valid(i))
    if not missing:
        return found
    drops_before = cache.drops
    groups = shards.group_by_shard(missing)

    async def fetch(shard, conn):
        rows = (await conn.execute(select(posts).where(posts.c.id.in_(groups[shard])))).all()
        return [Post.from_row(r) for r in rows]

    loaded: dict[int, Post] = {}
    for batch in await shards.gather(fetch, groups.keys()):
        loaded.update((p.id, p) for p in batch)
    cache.put_many(loaded, drops_before)
    return found | loaded


async def delete_post(shards: ShardSet, actor: Account, post_id: int) -> Post:
    post = await get_post(shards, post_id)
    if post is None:
        raise NotFound(_("That post does not exist."))
    if post.author_id != actor.id:
        raise Forbidden(_("You can only delete your own posts."))
    async with shards.for_id(post.id).write() as conn:
        deleted = await conn.execute(delete(posts).where(posts.c.id == post.id))
        record_change(conn, "post", post.id)
        record_change(conn, "author_posts", post.author_id)
        if deleted.rowcount and post.is_repost:
            # Deleting a repost is undoing it: the original's tally follows by the same job.
            record_change(conn, "reacting", f"{post.author_id}:{post.repost_of_id}")
            await enqueue(
                conn,
                "reactions.sync_repost",
                {"account_id": post.author_id, "post_id": post.repost_of_id, "repost_id": post.id},
                owner_id=post.author_id,
            )
        elif deleted.rowcount:
            await conn.execute(delete(post_tags).where(post_tags.c.post_id == post.id))
            # A retried request after the delete makes a new post, not a reference to nothing.
            await conn.execute(
                delete(post_idempotency_keys).where(
                    post_idempotency_keys.c.account_id == post.author_id,
                    post_idempotency_keys.c.post_id == post.id,
                )
            )
            await add_to_counter(conn, account_counters, "account_id", post.author_id, "posts", -1)
            await stats.count_post(conn, post.id, post.author_id, -1)  # stats, same transaction
            await enqueue(
                conn,
                "posts.unlink",
                {
                    "post_id": post.id,
                    "author_id": post.author_id,
                    "text": post.text,
                    "in_reply_to_id": post.in_reply_to_id,
                    "in_reply_to_account_id": post.in_reply_to_account_id,
                },
                owner_id=post.author_id,
            )
    return post


async def thread(
    shards: ShardSet, post: Post, viewer_id: int | None = None
) -> tuple[list[Post], list[Post]]:
    """The ancestors (oldest first) and the direct replies (oldest first) of ``post``.

    Reply links are written by a job; the viewer's own replies of the last minutes are read
    from their shard too, so someone who just replied sees their reply at once."""
    ancestors: list[Post] = []
    parent_id = post.in_reply_to_id
    while parent_id and len(ancestors) < MAX_THREAD_ANCESTORS:
        parent = await get_post(shards, parent_id)
        if parent is None:
            break
        ancestors.append(parent)
        parent_id = parent.in_reply_to_id
    ancestors.reverse()
    reply_ids = await _reply_ids(shards, post.id)
    found = await get_posts(shards, reply_ids)
    direct = [found[i] for i in reply_ids if i in found]
    if viewer_id is not None:
        direct = sorted(
            {
                p.id: p for p in [*direct, *await _recent_replies_by(shards, viewer_id, post.id)]
            }.values(),
            key=lambda p: p.id,
        )
    return ancestors, direct


async def _reply_ids(shards: ShardSet, post_id: int) -> tuple[int, ...]:
    """The direct replies' ids, oldest first: cached until the post's reply count changes
    (the job that links a reply or unlinks it changes both in one transaction)."""
    cache = shards.caches.replies
    cached = cache.get(post_id)
    if cached is not None:
        return cached
    drops_before = cache.drops
    statement = (
        select(replies.c.reply_id)
        .where(replies.c.parent_id == post_id)
        .order_by(replies.c.reply_id)
        .limit(MAX_THREAD_REPLIES)
    )
    async with shards.for_id(post_id).read() as conn:
        found = tuple((await conn.execute(statement)).scalars())
    cache.put_many({post_id: found}, drops_before)
    return found


async def _recent_replies_by(shards: ShardSet, author_id: int, parent_id: int) -> list[Post]:
    since = lowest_id_at(time.time_ns() // 1_000_000 - RECENT_MS)
    async with shards.for_id(author_id).read() as conn:
        rows = await conn.execute(
            select(posts).where(
                posts.c.author_id == author_id,
                posts.c.id > since,
                posts.c.in_reply_to_id == parent_id,
            )
        )
        return [Post.from_row(r) for r in rows]


async def descendants(shards: ShardSet, post: Post, direct: list[Post]) -> list[Post]:
    """Every reply below ``post``, as Mastodon lists them: depth first, each post's replies
    oldest first. One round of queries per level; a deleted reply cuts off its branch."""
    children: dict[int, list[Post]] = {post.id: direct}
    level, total = direct, len(direct)
    for _depth in range(MAX_THREAD_DEPTH):
        if not level or total >= MAX_THREAD_REPLIES:
            break
        links = await _reply_links(shards, [p.id for p in level])
        found = await get_posts(shards, [r for ids in links.values() for r in ids])
        next_level = []
        for parent in level:
            children[parent.id] = [found[r] for r in links.get(parent.id, []) if r in found]
            next_level += children[parent.id]
        level, total = next_level, total + len(next_level)
    ordered: list[Post] = []
    seen: set[int] = set()
    stack = list(reversed(direct))
    while stack and len(ordered) < MAX_THREAD_REPLIES:
        reply = stack.pop()
        if reply.id in seen:
            continue
        seen.add(reply.id)
        ordered.append(reply)
        stack.extend(reversed(children.get(reply.id, [])))
    return ordered


async def _reply_links(shards: ShardSet, parent_ids: list[int]) -> dict[int, list[int]]:
    """The replies of each parent (from the parents' shards, where the links live), oldest
    first."""
    groups = shards.group_by_shard(parent_ids)

    async def fetch(shard, conn) -> list:
        statement = (
            select(replies.c.parent_id, replies.c.reply_id)
            .where(replies.c.parent_id.in_(groups[shard]))
            .order_by(replies.c.reply_id)
            .limit(MAX_THREAD_REPLIES)
        )
        return list((await conn.execute(statement)).all())

    links: dict[int, list[int]] = {}
    for rows in await shards.gather(fetch, groups.keys()):
        for parent_id, reply_id in rows:
            links.setdefault(parent_id, []).append(reply_id)
    return links
