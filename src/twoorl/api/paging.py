"""Mastodon paging: ``max_id``, ``since_id``, ``min_id`` and ``limit`` in (as a
:class:`PageRequest`), a ``Link`` header out (``rel="next"`` first, for older items;
``rel="prev"`` for newer ones). Reading the page itself is ``timelines.paging``'s."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import Request, Response

from twoorl.api.params import Params
from twoorl.timelines.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest

CURSORS = ("max_id", "since_id", "min_id")
PATH_SAFE = "/:@!$&'()*+,;=-._~"  # RFC 3986 pchar: kept as they are in a path


def page_request(
    params: Params, default: int = DEFAULT_PAGE_SIZE, most: int = MAX_PAGE_SIZE
) -> PageRequest:
    """The request's cursors; a ``limit`` that is no number, or out of range, is taken as
    the default or clamped (as Mastodon does), not refused."""
    raw_limit = params.text("limit", max_length=10)
    limit = int(raw_limit) if raw_limit and raw_limit.isascii() and raw_limit.isdigit() else default
    return PageRequest(
        max_id=params.id("max_id"),
        since_id=params.id("since_id"),
        min_id=params.id("min_id"),
        limit=min(max(limit, 1), most),
    )


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
