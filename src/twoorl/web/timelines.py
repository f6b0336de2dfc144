"""Timeline pages: home, public, mentions, tags."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from twoorl.errors import TwoorlError
from twoorl.i18n import _
from twoorl.ids import MAX_ID
from twoorl.posts.text import strip_control_characters
from twoorl.runtime.http import ServicesDep
from twoorl.runtime.services import Services
from twoorl.search.trending import trending as trending_tags
from twoorl.timelines import service as timelines
from twoorl.timelines.service import Page, PageRequest
from twoorl.timelines.visible import visible
from twoorl.web.auth import CurrentAccount, MaybeAccount, signed_in
from twoorl.web.feed_links import public_feeds
from twoorl.web.templating import render

router = APIRouter()
MaxId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
SinceId = Annotated[int | None, Query(ge=0, le=MAX_ID)]


async def render_timeline(
    request: Request,
    svc: Services,
    page: Page,
    *,
    title: str,
    heading: str,
    stream: str | None = None,
    feeds: list | None = None,
    compose: bool = False,
    empty: str = "",
    compose_error: TwoorlError | None = None,
    compose_text: str = "",
    status_code: int = 200,
    trending: list | None = None,
) -> Response:
    shown = (await visible(svc.shards, page.posts, signed_in(request))).posts
    if request.query_params.get("fragment") == "entries":
        # The live banner's "show new posts": only the entries, to prepend in place.
        return render(request, "partials/entries.html", {"posts": shown}, same_for_anonymous=True)
    return render(
        request,
        "timeline.html",
        {
            "title": title,
            "stream": stream,
            "feeds": feeds,
            "heading": heading,
            "posts": shown,
            "next_max_id": page.next_max_id,
            "compose": compose,
            "compose_error": compose_error,
            "compose_text": compose_text,
            "empty": empty,
            "trending": trending,
        },
        status_code=status_code,
        same_for_anonymous=True,
    )


async def home_page(
    request: Request,
    svc: Services,
    account,
    max_id: int | None = None,
    since_id: int | None = None,
    *,
    compose_error: TwoorlError | None = None,
    compose_text: str = "",
) -> Response:
    page = await timelines.home(
        svc.shards, account.id, PageRequest(max_id=max_id, since_id=since_id), svc.timelines
    )
    return await render_timeline(
        request,
        svc,
        page,
        title=_("Home"),
        heading=_("Home"),
        stream="/stream/home",
        compose=True,
        empty=_("Nothing here yet. Post something, or follow people to see their posts."),
        compose_error=compose_error,
        compose_text=compose_text,
        status_code=compose_error.status_code if compose_error else 200,
    )


@router.get("/")
async def home(
    request: Request,
    svc: ServicesDep,
    account: MaybeAccount,
    max_id: MaxId = None,
    since_id: SinceId = None,
) -> Response:
    if account is None:
        return await public(request, svc, max_id, since_id)
    return await home_page(request, svc, account, max_id, since_id)


@router.get("/public")
async def public(
    request: Request, svc: ServicesDep, max_id: MaxId = None, since_id: SinceId = None
) -> Response:
    page = await timelines.public(svc.shards, PageRequest(max_id=max_id, since_id=since_id))
    return await render_timeline(
        request,
        svc,
        page,
        title=_("Public timeline"),
        heading=_("What everyone is saying"),
        stream="/stream/public",
        feeds=public_feeds(),
        empty=_("No posts yet. Be the first!"),
        trending=await trending_tags(svc.shards),
    )


@router.get("/mentions")
async def mentions(
    request: Request, svc: ServicesDep, account: CurrentAccount, max_id: MaxId = None
) -> Response:
    page = await timelines.mentioning(svc.shards, account.id, PageRequest(max_id=max_id))
    return await render_timeline(
        request,
        svc,
        page,
        title=_("Mentions"),
        heading=_("Posts that mention you"),
        empty=_("Nobody has mentioned you yet."),
    )


@router.get("/tags/{tag}")
async def tag(request: Request, svc: ServicesDep, tag: str, max_id: MaxId = None) -> Response:
    tag = strip_control_characters(tag)[:100]
    page = await timelines.tagged(svc.shards, tag, PageRequest(max_id=max_id))
    return await render_timeline(
        request,
        svc,
        page,
        title=f"#{tag}",
        heading=_("Posts tagged #%(tag)s") % {"tag": tag[:100]},
        empty=_("No posts with this tag yet."),
    )
