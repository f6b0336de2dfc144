"""The newest entries of a timeline, kept in this process so that its first pages cost no
statement on any number of shards: the public timeline's, each tag's, each author's own
(a profile) and each reader's fan-in home timeline's.

A window is a prefix of its timeline: the newest ``size`` entries (or all of them). So a
page is answered from it exactly when it holds ``limit + 1`` entries inside the page's
bounds (anything in bounds that it lacks is older than all of those) or when it holds the
whole timeline. Otherwise the page is read from the shards, as without a window.

What keeps windows right is the change feed. A new public post (``"public_post"``) does not
drop the public window: it is noted there as arrived, and the next page brings it in by id
(one statement to its author's shard, or none when the post is cached) instead of reading
the newest entries of every shard again. It drops the tag windows (it may carry tags). A
deleted or hidden post drops the public and tag windows (``"post"``, ``"public"``); a post,
repost or delete by an author drops their own window and the home windows that depend on
them (``"author_posts"``), and a reader's follow or unfollow drops theirs (``"followees"``).
Each window is read afresh after a minute at most, however often it was added to.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Hashable
from dataclasses import dataclass, field, replace
from typing import Any

from twoorl.caching.entities import MUTABLE_SECONDS, DependentCache, EntityCache
from twoorl.posts.models import Post
from twoorl.timelines.paging import MAX_PAGE_SIZE, Page, PageRequest, page_of

# Enough for two pages of the default size, or one of the largest, at the top.
HOME_WINDOW = MAX_PAGE_SIZE
TAG_WINDOW = MAX_PAGE_SIZE
AUTHOR_WINDOW = MAX_PAGE_SIZE
PUBLIC_WINDOW = 200  # the busiest timeline: everyone's, read by every anonymous visitor

# The newest ``limit`` entries of a timeline (no bounds), newest first.
NewestLoader = Callable[[int], Awaitable[list[Post]]]
# Any page of it, from the shards.
PageLoader = Callable[[PageRequest], Awaitable[list[Post]]]
# The posts among these ids that still exist.
PostsLoader = Callable[[list[int]], Awaitable[list[Post]]]


@dataclass(frozen=True, slots=True)
class Window:
    posts: tuple[Post, ...]
    complete: bool  # the whole timeline: nothing older exists
    authors: Collection[int] = ()  # a home window: whom its reader follows
    # Posts announced since the read (``"public_post"``), to bring in before the next page.
    arrived: tuple[int, ...] = ()
    read_at: float = field(default_factory=time.monotonic)

    def stale(self) -> bool:
        """Read more than the cache's lifetime ago: arrivals keep re-storing a window, and
        the lifetime is the backstop for a change that never came."""
        return time.monotonic() - self.read_at > MUTABLE_SECONDS

    def with_arrived(self, post_id: int) -> Window:
        return replace(self, arrived=(*self.arrived, post_id))

    def taking_in(self, arrivals: Collection[Post], size: int) -> Window:
        """This window with ``arrivals`` in their places, still a prefix: a post older than
        all it holds belongs there only if it holds the whole timeline."""
        held = {post.id for post in self.posts}
        oldest = self.posts[-1].id if self.posts else 0
        fresh = {p.id: p for p in arrivals if p.id not in held and (self.complete or p.id > oldest)}
        merged = sorted((*self.posts, *fresh.values()), key=_newest_first)
        return replace(
            self,
            posts=tuple(merged[:size]),
            complete=self.complete and len(merged) <= size,
            arrived=(),
        )

    def page(self, request: PageRequest) -> Page | None:
        """The page, if this window can answer it exactly."""
        wanted = request.limit + 1
        lower, upper = request.lower, request.upper
        inside = [p for p in self.posts if lower < p.id < upper]
        if len(inside) >= wanted or self.complete:
            return page_of(inside[:wanted], request)
        return None


async def _load(newest: NewestLoader, size: int, authors: Collection[int] = ()) -> Window:
    found = await newest(size + 1)
    return Window(tuple(found[:size]), complete=len(found) <= size, authors=authors)


async def shared_page(
    cache: EntityCache[Any, Window],
    key: Hashable,
    size: int,
    request: PageRequest,
    newest: NewestLoader,
    from_shards: PageLoader,
    arrivals: PostsLoader | None = None,
) -> Page:
    """A page of a timeline everyone sees alike (public, a tag), from its window if it can.
    ``arrivals`` loads the posts that changes announced as arrived since the window's read."""
    window = cache.get(key)
    if window is not None and window.stale():
        window = None  # read afresh, without first taking in what arrived
    if window is not None and window.arrived and arrivals is not None:
        window = await _take_in_arrivals(cache, key, window, size, arrivals)
    if window is None:

        async def load() -> Window:
            drops_before = cache.drops
            loaded = await _load(newest, size)
            cache.put_many({key: loaded}, drops_before)
            return loaded

        window = await _one_load(cache, key, load)
    return window.page(request) or page_of(await from_shards(request), request)


async def _take_in_arrivals(
    cache: EntityCache[Any, Window], key: Hashable, window: Window, size: int, arrivals: PostsLoader
) -> Window:
    drops_before = cache.drops
    merged = window.taking_in(await arrivals(list(window.arrived)), size)
    # Stored unless something changed meanwhile (a later arrival re-stores it with both).
    cache.put_many({key: merged}, drops_before)
    return merged


async def home_page(
    cache: DependentCache[int, Window],
    reader_id: int,
    followees: frozenset[int],
    size: int,
    request: PageRequest,
    newest: NewestLoader,
    from_shards: PageLoader,
) -> Page:
    """A page of a reader's fan-in home timeline (their own posts and those of
    ``followees``), from its window if it can."""
    window = cache.get(reader_id)
    if window is None or not _same(window.authors, followees):

        async def load() -> Window:
            tracked = cache.track(reader_id, [reader_id, *followees])
            loaded = await _load(newest, size, followees)
            cache.put_tracked(reader_id, loaded, tracked)
            return loaded

        window = await _one_load(cache, reader_id, load)
        if not _same(window.authors, followees):  # a load begun before a follow
            window = await _load(newest, size, followees)
    return window.page(request) or page_of(await from_shards(request), request)


async def _one_load(
    cache: EntityCache[Any, Window], key: Hashable, load: Callable[[], Awaitable[Window]]
) -> Window:
    """Concurrent misses of one window share one read, so that when a busy window expires
    its readers do not all run the same query at once. A read begun before a change that
    concerns it is not shared: a request after the change waits for a read after it."""
    version = cache.version(key)
    running = cache.loading.get(key)
    if running is None or running[1] != version:
        running = (asyncio.ensure_future(load()), version)
        cache.loading[key] = running

        def done(_future: object, this: tuple[Any, Any] = running) -> None:
            if cache.loading.get(key) is this:
                del cache.loading[key]

        running[0].add_done_callback(done)
    return await asyncio.shield(running[0])


def _newest_first(post: Post) -> int:
    return -post.id


def _same(held: Collection[Hashable], current: frozenset[int]) -> bool:
    # The followees cache hands out one set until it changes: usually the same object.
    return held is current or held == current
