"""Timelines: ask every shard concurrently, merge the sorted answers, stop at the page.
Home timelines come from the fan-out cache when there is one (see ``hybrid``)."""

from __future__ import annotations

from sqlalchemy import select

from twoorl.ids import MAX_ID
from twoorl.posts.models import Post
from twoorl.posts.service import get_posts
from twoorl.posts.tables import mentions
from twoorl.posts.text import normalize_tag
from twoorl.storage.shards import ShardSet
from twoorl.timelines import fan_in, hybrid, queries, windows
from twoorl.timelines.cache import HomeTimelines
from twoorl.timelines.merge import merge_newest
from twoorl.timelines.paging import (  # noqa: F401 (re-exported for callers)
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Page,
    PageRequest,
    page_of,
)


async def home(
    shards: ShardSet,
    account_id: int,
    request: PageRequest,
    cache: HomeTimelines | None = None,
) -> Page:
    """The reader's own posts and those of everyone they follow, newest first: from the
    fan-out cache when Redis is configured (``cache``), else by fan-in."""
    if cache is not None:
        return await hybrid.home(shards, cache, account_id, request)
    return await fan_in.home(shards, account_id, request)


async def public(shards: ShardSet, request: PageRequest) -> Page:
    """Everyone's posts (no reposts, nothing hidden), newest first."""

    async def fetch(upper: int, lower: int, wanted: int) -> list[Post]:
        async def on_shard(shard, conn) -> list[Post]:
            return await queries.newest_everywhere(conn, max_id=upper, min_id=lower, limit=wanted)

        return merge_newest(await shards.gather(on_shard), wanted, key=_post_id)

    async def arrived(post_ids: list[int]) -> list[Post]:
        return list((await get_posts(shards, post_ids)).values())

    return await windows.shared_page(
        shards.caches.public,
        "",
        windows.PUBLIC_WINDOW,
        request,
        lambda wanted: fetch(MAX_ID, 0, wanted),
        lambda page: fetch(page.upper, page.lower, page.limit + 1),
        arrived,
    )


async def tagged(shards: ShardSet, tag: str | list[str], request: PageRequest) -> Page:
    """Posts with ``tag`` (or with any of a list of tags), newest first."""
    tags = sorted({normalize_tag(t) for t in ([tag] if isinstance(tag, str) else tag)})

    async def fetch(upper: int, lower: int, wanted: int) -> list[Post]:
        async def on_shard(shard, conn) -> list[Post]:
            return await queries.newest_with_tag(
                conn, tags, max_id=upper, min_id=lower, limit=wanted
            )

        return merge_newest(await shards.gather(on_shard), wanted, key=_post_id)

    return await windows.shared_page(
        shards.caches.tags,
        ",".join(tags),
        windows.TAG_WINDOW,
        request,
        lambda wanted: fetch(MAX_ID, 0, wanted),
        lambda page: fetch(page.upper, page.lower, page.limit + 1),
    )


async def by_author(shards: ShardSet, author_id: int, request: PageRequest) -> Page:
    """An author's posts and reposts, newest first (a profile), from their window if it can:
    a profile's first page costs no statement until they post again."""

    async def fetch(upper: int, lower: int, wanted: int) -> list[Post]:
        async with shards.for_id(author_id).read() as conn:
            return await queries.newest_by_authors(
                conn, [author_id], max_id=upper, min_id=lower, limit=wanted
            )

    return await windows.shared_page(
        shards.caches.author_windows,
        author_id,
        windows.AUTHOR_WINDOW,
        request,
        lambda wanted: fetch(MAX_ID, 0, wanted),
        lambda page: fetch(page.upper, page.lower, page.limit + 1),
    )


async def mentioning(shards: ShardSet, account_id: int, request: PageRequest) -> Page:
    """Posts that mention ``account_id`` (Twoorl's "replies" page)."""
    async with shards.for_id(account_id).read() as conn:
        post_ids = list(
            (
                await conn.execute(
                    select(mentions.c.post_id)
                    .where(
                        mentions.c.account_id == account_id,
                        mentions.c.post_id < request.upper,
                        mentions.c.post_id > request.lower,
                    )
                    .order_by(mentions.c.post_id.desc())
                    .limit(request.limit + 1)
                )
            ).scalars()
        )
    found = await get_posts(shards, post_ids)
    return page_of([found[i] for i in post_ids if i in found], request)


def _post_id(post: Post) -> int:
    return post.id
