"""Id-cursor pages, shared by every timeline and every surface (pages, API, feeds).

A timeline's own read (``timelines.service``) answers one :class:`PageRequest` with one
:class:`Page`: at most ``limit`` posts with ``since_id`` < id < ``max_id``, newest first.
:func:`page_until_full` builds on it what surfaces ask for: a page of posts that pass a
filter (``exclude_replies``, a feed without reposts), read further down until it is full,
and Mastodon's ``min_id`` (the oldest posts above a cursor)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from twoorl.ids import MAX_ID
from twoorl.posts.models import Post

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 40
# A filtered page reads at most this many posts looking for a full page: a timeline full of
# filtered-out posts gives a shorter page rather than a slow one.
MAX_SCANNED = 10 * MAX_PAGE_SIZE
# Reads one ``min_id`` page may take: enough for the gallop and bisection over 63-bit ids.
MAX_WINDOW_PROBES = 200


@dataclass(frozen=True)
class PageRequest:
    """Items with ``since_id`` < id < ``max_id``, newest first; with ``min_id``, the oldest
    ``limit`` items above it (still newest first), as Mastodon pages them."""

    max_id: int | None = None
    since_id: int | None = None
    limit: int = DEFAULT_PAGE_SIZE
    min_id: int | None = None

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
    has_more: bool = field(default=False)  # older items exist beyond the page

    @property
    def next_max_id(self) -> int | None:
        """The cursor for the next (older) page, or None at the end."""
        return self.posts[-1].id if self.has_more and self.posts else None


PageFetcher = Callable[[PageRequest], Awaitable[Page]]
Keep = Callable[[Post], bool]


def page_of(found: list[Post], request: PageRequest) -> Page:
    # Each query asks for one extra item, so "is there an older page?" costs nothing more.
    return Page(found[: request.limit], request, has_more=len(found) > request.limit)


def _everything(_post: Post) -> bool:
    return True


async def page_until_full(
    fetch: PageFetcher, request: PageRequest, keep: Keep = _everything
) -> Page:
    """A page of ``request.limit`` posts that pass ``keep``, reading further down the
    timeline (at most ``MAX_SCANNED`` posts) until it is full. ``has_more`` says whether
    older kept posts may exist below it."""
    if request.min_id is not None:
        # As on Mastodon, ``min_id`` wins over ``since_id``.
        return await _oldest_above(fetch, request, keep)
    kept: list[Post] = []
    seen: set[int] = set()
    max_id = request.max_id
    scanned = 0
    while True:
        read = PageRequest(
            max_id=max_id,
            since_id=request.since_id,
            limit=MAX_PAGE_SIZE if scanned else request.limit,
        )
        page = await fetch(read)
        scanned += len(page.posts)
        for post in page.posts:
            if post.id not in seen and keep(post):
                seen.add(post.id)
                kept.append(post)
                if len(kept) == request.limit:
                    more = post is not page.posts[-1] or page.has_more
                    return Page(kept, request, more)
        if page.next_max_id is None or scanned >= MAX_SCANNED:
            return Page(kept, request, page.next_max_id is not None)
        max_id = page.next_max_id


async def _oldest_above(fetch: PageFetcher, request: PageRequest, keep: Keep) -> Page:
    """The oldest ``limit`` kept posts above ``min_id`` (and below ``max_id``), newest first.

    Timelines read newest first only, and paging down from the top costs a read per 40 posts
    above the cursor (a client catching up after a week). Ids are ordered like time, so this
    reads id windows upward from the cursor instead, each window one read: a window holding
    more than one read is halved and tried again (its top is remembered as a bound, so the
    search is a bisection); a window read whole is kept, and the next one starts above it,
    twice as wide if this one was sparse (a gallop). Reads grow with the log of the id
    distance, not with the number of posts. Should reads run out, the posts found are still
    the oldest above the cursor, only fewer."""
    top = request.upper
    floor = request.min_id or 0
    found: list[Post] = []  # every kept post from the cursor up to ``floor``, newest first
    span = top - floor  # the first read asks for everything: the usual catch-up
    dense = top  # a window up to here held more than one read (or it is the top)
    scanned = 0
    for probe in range(MAX_WINDOW_PROBES):
        if len(found) >= request.limit or floor >= top - 1 or scanned >= MAX_SCANNED:
            break
        if dense - floor <= 1:
            dense = top  # read up to the bound: gallop on
        # A window (floor, ceiling) holds an id only if it is at least 2 wide.
        ceiling = min(floor + max(span, 2), dense)
        page = await fetch(PageRequest(max_id=ceiling, since_id=floor, limit=MAX_PAGE_SIZE))
        if page.has_more:
            dense = ceiling
            # At first, the newest posts' spread is a guess at a width worth one read.
            first_guess = page.posts[0].id + 1 - page.posts[-1].id
            span = first_guess if probe == 0 else (ceiling - floor) // 2
            continue
        scanned += len(page.posts)
        found = [post for post in page.posts if keep(post)] + found
        width = ceiling - floor
        floor = ceiling - 1  # ``ceiling`` itself was not read: the next window includes it
        # Nothing there: leap (a bisection takes an overshoot back in a few reads).
        growth = 1 if len(page.posts) >= MAX_PAGE_SIZE // 2 else 2 if page.posts else 16
        span = width * growth
    if not found and floor < top - 1:
        # Reads ran out before finding anything (a long run of filtered-out posts): the
        # newest kept posts above the cursor are better than an empty page, which would
        # tell the client there is nothing newer.
        newest = await page_until_full(fetch, replace(request, since_id=floor, min_id=None), keep)
        return Page(newest.posts, request, has_more=True)
    # Older kept posts may lie below the page (and below the cursor): offer ``next``.
    return Page(found[-request.limit :], request, has_more=True)
