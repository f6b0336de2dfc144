"""The newest entries of a timeline, kept in this process so that its first pages cost no
statement on any number of shards: the public timeline's, each tag's, and each reader's
fan-in home timeline's.

A window is a prefix of its timeline: the newest ``size`` entries (or all of them). So a
page is answered from it exactly when it holds ``limit + 1`` entries inside the page's
bounds (anything in bounds that it lacks is older than all of those) or when it holds the
whole timeline. Otherwise the page is read from the shards, as without a window.

What keeps windows right is the change feed: a new, deleted or hidden post drops the public
and tag windows (``"public"``, ``"post"``); a post or delete by an author drops the home
windows that depend on them (``"author_posts"``), and a reader's follow or unfollow drops
theirs (``"followees"``). Each also lives a minute at most.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Hashable
from dataclasses import dataclass

from twoorl.caching.entities import DependentCache, EntityCache
from twoorl.posts.models import Post
from twoorl.timelines.paging import MAX_PAGE_SIZE, Page, PageRequest, page_of

# Enough for two pages of the default size, or one of the largest, at the top.
HOME_WINDOW = MAX_PAGE_SIZE
TAG_WINDOW = MAX_PAGE_SIZE
PUBLIC_WINDOW = 200  # the busiest timeline: everyone's, read by every anonymous visitor

# The newest ``limit`` entries of a timeline (no bounds), newest first.
NewestLoader = Callable[[int], Awaitable[list[Post]]]
# Any page of it, from the shards.
PageLoader = Callable[[PageRequest], Awaitable[list[Post]]]


@dataclass(frozen=True, slots=True)
class Window:
    posts: tuple[Post, ...]
    complete: bool  # the whole timeline: nothing older exists
    authors: Collection[int] = ()  # a home window: whom its reader follows

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
    cache: EntityCache[str, Window],
    key: str,
    size: int,
    request: PageRequest,
    newest: NewestLoader,
    from_shards: PageLoader,
) -> Page:
    """A page of a timeline everyone sees alike (public, a tag), from its window if it can."""
    window = cache.get(key)
    if window is None:
        drops_before = cache.drops
        window = await _load(newest, size)
        cache.put_many({key: window}, drops_before)
    return window.page(request) or page_of(await from_shards(request), request)


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
        tracked = cache.track(reader_id, [reader_id, *followees])
        window = await _load(newest, size, followees)
        cache.put_tracked(reader_id, window, tracked)
    return window.page(request) or page_of(await from_shards(request), request)


def _same(held: Collection[Hashable], current: frozenset[int]) -> bool:
    # The followees cache hands out one set until it changes: usually the same object.
    return held is current or held == current
