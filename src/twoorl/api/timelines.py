"""``/api/v1/timelines``: home, public and hashtag timelines, paged by id cursors."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response

from twoorl.accounts.models import Account
from twoorl.api import schemas
from twoorl.api.auth import maybe_user, user
from twoorl.api.common import entities, statuses_response
from twoorl.api.paging import link_header, page_request
from twoorl.api.params import Params
from twoorl.posts.models import Post
from twoorl.posts.text import hashtags, normalize_tag, strip_control_characters
from twoorl.runtime.http import ServicesDep, site_url
from twoorl.timelines import service as timelines
from twoorl.timelines.paging import PageFetcher, page_until_full

router = APIRouter(prefix="/api/v1/timelines", tags=["timelines"])
MAX_EXTRA_TAGS = 4


async def _timeline(
    request: Request,
    response: Response,
    viewer: Account | None,
    fetch: PageFetcher,
    keep: Callable[[Post], bool] = lambda post: True,
) -> Response:
    page = await page_until_full(fetch, page_request(await Params.read(request)), keep)
    link_header(request, response, site_url(request), [p.id for p in page.posts], page.has_more)
    return statuses_response(await entities(request, viewer).statuses_json(page.posts), response)


@router.get("/home", response_model=list[schemas.Status])
async def home(
    request: Request, response: Response, svc: ServicesDep, me: Account = user("read:statuses")
) -> Response:
    return await _timeline(
        request,
        response,
        me,
        lambda page: timelines.home(svc.shards, me.id, page, svc.timelines),
    )


@router.get("/public", response_model=list[schemas.Status])
async def public(
    request: Request,
    response: Response,
    svc: ServicesDep,
    viewer: Account | None = maybe_user("read:statuses"),
) -> Response | list[schemas.Status]:
    params = await Params.read(request)
    if params.flag("remote") or params.flag("only_media"):
        return []  # no federation and no media: every post here is local text
    return await _timeline(
        request, response, viewer, lambda page: timelines.public(svc.shards, page)
    )


@router.get("/tag/{hashtag}", response_model=list[schemas.Status])
async def tag(
    request: Request,
    response: Response,
    svc: ServicesDep,
    hashtag: str,
    viewer: Account | None = maybe_user("read:statuses"),
) -> Response | list[schemas.Status]:
    params = await Params.read(request)
    if params.flag("remote") or params.flag("only_media"):
        return []

    def tags(values: list[str]) -> set[str]:
        cleaned = (normalize_tag(strip_control_characters(v)[:100]) for v in values)
        return {tag for tag in cleaned if tag}

    # Mastodon's any[] (this tag or those), all[] (and every one of those), none[] (and
    # none of those), up to MAX_EXTRA_TAGS each.
    any_of = tags([hashtag, *params.texts("any", max_items=MAX_EXTRA_TAGS)])
    all_of = tags(params.texts("all", max_items=MAX_EXTRA_TAGS))
    none_of = tags(params.texts("none", max_items=MAX_EXTRA_TAGS))
    if not any_of:
        return []

    def keep(post: Post) -> bool:
        carried = set(hashtags(post.text))
        return all_of <= carried and not none_of & carried

    return await _timeline(
        request,
        response,
        viewer,
        lambda page: timelines.tagged(svc.shards, sorted(any_of), page),
        keep,
    )
