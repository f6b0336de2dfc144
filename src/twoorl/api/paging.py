"""Mastodon paging: ``max_id``, ``since_id``, ``min_id`` and ``limit`` in, a ``Link`` header
out (``rel="next"`` first, for older items; ``rel="prev"`` for newer ones)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request, Response

from twoorl.api.params import Params
from twoorl.timelines.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest

PageFetcher = Callable[[PageRequest], Awaitable[Page]]
# ``min_id`` asks for the oldest items above a cursor, but every timeline reads newest first:
# it pages down from the top to the cursor, up to this many items.
MIN_ID_SCAN = 10 * MAX_PAGE_SIZE
CURSORS = ("max_id", "since_id", "min_id")


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
    if cursor.min_id is not None and cursor.since_id is None:
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
    found: list = []
    max_id = None
    while len(found) < MIN_ID_SCAN:
        page = await fetch(PageRequest(max_id=max_id, since_id=cursor.min_id, limit=MAX_PAGE_SIZE))
        found.extend(post for post in page.posts if keep(post))
        if page.next_max_id is None:
            break
        max_id = page.next_max_id
    # Older than the page exist only if the scan was cut short; the cursor bounds the rest.
    return Window(found[-cursor.limit :], has_more=True)


def link_header(
    request: Request, response: Response, base_url: str, ids: list[int], has_more: bool
) -> None:
    """Sets ``Link`` for a page whose items have the given cursor ids (newest first)."""
    if not ids:
        return
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in CURSORS]
    here = f"{base_url}{request.url.path}"
    links = []
    if has_more:
        links.append(f'<{here}?{urlencode([*kept, ("max_id", ids[-1])])}>; rel="next"')
    links.append(f'<{here}?{urlencode([*kept, ("min_id", ids[0])])}>; rel="prev"')
    response.headers["Link"] = ", ".join(links)
