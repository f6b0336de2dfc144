"""Mastodon paging: ``max_id``, ``since_id``, ``min_id`` and ``limit`` in, a ``Link`` header
out (``rel="next"`` first, for older items; ``rel="prev"`` for newer ones)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from urllib.parse import quote, urlencode

from fastapi import Request, Response

from twoorl.api.params import Params
from twoorl.ids import MAX_ID
from twoorl.timelines.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest

PageFetcher = Callable[[PageRequest], Awaitable[Page]]
# Filters (``exclude_replies``) read at most this many posts looking for a full page.
MIN_ID_SCAN = 10 * MAX_PAGE_SIZE
# Reads one ``min_id`` page may take: enough for the gallop and bisection over 63-bit ids.
MAX_WINDOW_PROBES = 200
CURSORS = ("max_id", "since_id", "min_id")
PATH_SAFE = "/:@!$&'()*+,;=-._~"  # RFC 3986 pchar: kept as they are in a path


@dataclass(frozen=True)
class Cursor:
    max_id: int | None
    since_id: int | None
    min_id: int | None
    limit: int

    @classmethod
    def from_params(
        cls, params: Params, default: int = DEFAULT_PAGE_SIZE, most: int = MAX_PAGE_SIZE
    ):
        raw_limit = params.text("limit", max_length=10)
        limit = (
            int(raw_limit) if raw_limit and raw_limit.isascii() and raw_limit.isdigit() else default
        )
        return cls(
            max_id=params.id("max_id"),
            since_id=params.id("since_id"),
            min_id=params.id("min_id"),
            limit=min(max(limit, 1), most),
        )


@dataclass(frozen=True)
class Window:
    """A page of ids (newest first) and whether older ones exist beyond it."""

    items: list
    has_more: bool


async def fetch_window(fetch: PageFetcher, cursor: Cursor, keep=lambda post: True) -> Window:
    """A page of posts for ``cursor``, keeping only posts that pass ``keep`` (filters such as
    ``exclude_replies`` page further down until the page is full)."""
    if cursor.min_id is not None:
        # As on Mastodon, ``min_id`` wins over ``since_id``.
        return await _oldest_above(fetch, cursor, keep)
    kept: list = []
    max_id = cursor.max_id
    scanned = 0
    while True:
        page = await fetch(
            PageRequest(max_id=max_id, since_id=cursor.since_id, limit=MAX_PAGE_SIZE)
            if scanned
            else PageRequest(max_id=max_id, since_id=cursor.since_id, limit=cursor.limit)
        )
        scanned += len(page.posts)
        for post in page.posts:
            if keep(post):
                kept.append(post)
                if len(kept) == cursor.limit:
                    more = post is not page.posts[-1] or page.has_more
                    return Window(kept, more)
        if page.next_max_id is None or scanned >= MIN_ID_SCAN:
            return Window(kept, page.next_max_id is not None)
        max_id = page.next_max_id


async def _oldest_above(fetch: PageFetcher, cursor: Cursor, keep) -> Window:
    """The oldest ``limit`` kept posts above ``min_id`` (and below ``max_id``), newest first.

    Timelines read newest first only, and paging down from the top costs a read per 40 posts
    above the cursor (a client catching up after a week). Ids are ordered like time, so this
    reads id windows upward from the cursor instead, each window one read: a window holding
    more than one read is halved and tried again (its top is remembered as a bound, so the
    search is a bisection); a window read whole is kept, and the next one starts above it,
    twice as wide if this one was sparse (a gallop). Reads grow with the log of the id
    distance, not with the number of posts. Should reads run out, the posts found are still
    the oldest above the cursor, only fewer."""
    top = cursor.max_id if cursor.max_id is not None else MAX_ID
    floor = cursor.min_id or 0
    found: list = []  # every kept post from the cursor up to ``floor``, newest first
    span = top - floor  # the first read asks for everything: the usual catch-up
    dense = top  # a window up to here held more than one read (or it is the top)
    scanned = 0
    for probe in range(MAX_WINDOW_PROBES):
        if len(found) >= cursor.limit or floor >= top - 1 or scanned >= MIN_ID_SCAN:
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
        window = await fetch_window(fetch, replace(cursor, since_id=floor, min_id=None), keep)
        return Window(window.items, has_more=True)
    # Older kept posts may lie below the page (and below the cursor): offer ``next``.
    return Window(found[-cursor.limit :], has_more=True)


def link_header(
    request: Request, response: Response, base_url: str, ids: list[int], has_more: bool
) -> None:
    """Sets ``Link`` for a page whose items have the given cursor ids (newest first)."""
    if not ids:
        return
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in CURSORS]
    # The path arrives decoded ("/tag/café"); a header must be ASCII, and a link encoded.
    here = f"{base_url}{quote(request.url.path, safe=PATH_SAFE)}"
    links = []
    if has_more:
        links.append(f'<{here}?{urlencode([*kept, ("max_id", ids[-1])])}>; rel="next"')
    links.append(f'<{here}?{urlencode([*kept, ("min_id", ids[0])])}>; rel="prev"')
    response.headers["Link"] = ", ".join(links)
