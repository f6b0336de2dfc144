"""``/api/v1/timelines``: home, public and hashtag timelines, paged by id cursors."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from twoorl.accounts.models import Account
from twoorl.api import schemas
from twoorl.api.auth import ServicesDep, maybe_user, user
from twoorl.api.common import entities
from twoorl.api.paging import Cursor, PageFetcher, fetch_window, link_header
from twoorl.api.params import Params
from twoorl.posts.text import strip_control_characters
from twoorl.timelines import service as timelines
from twoorl.web.services import site_url

router = APIRouter(prefix="/api/v1/timelines", tags=["timelines"])


async def _timeline(
    request: Request, response: Response, viewer: Account | None, fetch: PageFetcher
) -> list[schemas.Status]:
    window = await fetch_window(fetch, Cursor.from_params(await Params.read(request)))
    link_header(request, response, site_url(request), [p.id for p in window.items], window.has_more)
    return await entities(request, viewer).statuses(window.items)


@router.get("/home", response_model=list[schemas.Status])
async def home(
    request: Request, response: Response, svc: ServicesDep, me: Account = user("read:statuses")
) -> list[schemas.Status]:
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
) -> list[schemas.Status]:
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
) -> list[schemas.Status]:
    params = await Params.read(request)
    if params.flag("remote") or params.flag("only_media"):
        return []
    name = strip_control_characters(hashtag).removeprefix("#")[:100]
    return await _timeline(
        request, response, viewer, lambda page: timelines.tagged(svc.shards, name, page)
    )
