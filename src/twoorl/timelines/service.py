"""Timelines by fan-in: ask every shard concurrently, merge the sorted answers, stop at the page."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from twoorl.graph.service import followee_ids
from twoorl.ids import MAX_ID
from twoorl.posts.models import Post
from twoorl.posts.service import get_posts
from twoorl.posts.tables import mentions
from twoorl.posts.text import normalize_tag
from twoorl.storage.shards import ShardSet
from twoorl.timelines import queries
from twoorl.timelines.merge import merge_newest

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 40


@dataclass(frozen=True)
class PageRequest:
    """An id-cursor page: items with ``since_id`` < id < ``max_id``, newest first."""

    max_id: int | None = None
    since_id: int | None = None
    limit: int = DEFAULT_PAGE_SIZE

    @property
    def upper(self) -> int:
        return self.max_id if self.max_id is not None else MAX_ID

    @property
    def lower(self) -> int:
        return self.since_id if self.since_id is not None else 0


@dataclass(frozen=True)
class Page:
    posts: list[Post]
    request: PageRequest
    has_more: bool = field(default=False)

    @property
    def next_max_id(self) -> int | None:
        """The cursor for the next (older) page, or None at the end."""
        return self.posts[-1].id if self.has_more and self.posts else None


def _page(found: list[Post], request: PageRequest) -> Page:
    # Each query asks for one extra item, so "is there an older page?" costs nothing more.
    return Page(found[: request.limit], request, has_more=len(found) > request.limit)


async def home(shards: ShardSet, account_id: int, request: PageRequest) -> Page:
    authors = [account_id, *await followee_ids(shards, account_id)]
    groups = shards.group_by_shard(authors)
    wanted = request.limit + 1

    async def fetch(shard, conn) -> list[Post]:
        return await queries.newest_by_authors(
            conn, groups[shard], max_id=request.upper, min_id=request.lower, limit=wanted
        )

    lists = await shards.gather(fetch, groups.keys())
    return _page(merge_newest(lists, wanted, key=_post_id), request)


async def public(shards: ShardSet, request: PageRequest) -> Page:
    wanted = request.limit + 1

    async def fetch(shard, conn) -> list[Post]:
        return await queries.newest_everywhere(
            conn, max_id=request.upper, min_id=request.lower, limit=wanted
        )

    return _page(merge_newest(await shards.gather(fetch), wanted, key=_post_id), request)


async def tagged(shards: ShardSet, tag: str, request: PageRequest) -> Page:
    wanted = request.limit + 1
    tag = normalize_tag(tag)

    async def fetch(shard, conn) -> list[Post]:
        return await queries.newest_with_tag(
            conn, tag, max_id=request.upper, min_id=request.lower, limit=wanted
        )

    return _page(merge_newest(await shards.gather(fetch), wanted, key=_post_id), request)


async def by_author(shards: ShardSet, author_id: int, request: PageRequest) -> Page:
    async with shards.for_id(author_id).read() as conn:
        found = await queries.newest_by_authors(
            conn, [author_id], max_id=request.upper, min_id=request.lower, limit=request.limit + 1
        )
    return _page(found, request)


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
    return _page([found[i] for i in post_ids if i in found], request)


def _post_id(post: Post) -> int:
    return post.id
