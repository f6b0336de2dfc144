"""``/search``: people, hashtags and posts for a query; posts page by ``max_id``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from twoorl.i18n import _
from twoorl.ids import MAX_ID
from twoorl.runtime.http import ServicesDep
from twoorl.search import service as search
from twoorl.timelines.visible import visible
from twoorl.web.auth import MaybeAccount
from twoorl.web.templating import render

router = APIRouter()
POSTS_PER_PAGE = 20
PEOPLE_SHOWN = 10
TAGS_SHOWN = 10


@router.get("/search")
async def search_page(
    request: Request,
    svc: ServicesDep,
    viewer: MaybeAccount,
    # Long pasted text is cut to what is searched, not refused.
    q: Annotated[str, Query(max_length=100_000)] = "",
    max_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    parsed = search.parse(q)
    people, tags, found = [], [], []
    if parsed.text:
        if max_id is None:
            # People and tags on the first page only; older pages are more posts.
            people = await search.people(svc.shards, parsed.text, limit=PEOPLE_SHOWN, viewer=viewer)
            tags = await search.hashtags(svc.shards, parsed.text, limit=TAGS_SHOWN)
        found = await search.search_posts(
            svc.shards, parsed, max_id=max_id, limit=POSTS_PER_PAGE + 1, viewer=viewer
        )
    more = len(found) > POSTS_PER_PAGE
    found = found[:POSTS_PER_PAGE]
    title = _("Search") if not parsed.text else _("Search: %(query)s") % {"query": parsed.text}
    return render(
        request,
        "search.html",
        {
            "title": title,
            "query": parsed.text,
            "people": people,
            "tags": tags,
            "posts": (await visible(svc.shards, found, viewer)).posts,
            "next_max_id": found[-1].id if more and found else None,
            "first_page": max_id is None,
        },
    )
