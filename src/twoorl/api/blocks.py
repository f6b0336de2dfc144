"""``GET /api/v1/blocks`` and ``/api/v1/mutes``: the people the user blocked or muted, newest
account first, paged with ``Link`` like followers (blocking and muting are in ``accounts``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from twoorl.accounts.models import Account
from twoorl.api import schemas
from twoorl.api.auth import ServicesDep, user
from twoorl.api.common import entities
from twoorl.api.paging import Cursor, link_header
from twoorl.api.params import Params
from twoorl.graph import blocks
from twoorl.web.services import site_url

router = APIRouter(prefix="/api/v1", tags=["accounts"])


async def _listed(request: Request, response: Response, svc, me: Account, page_of) -> list:
    params = await Params.read(request)
    cursor = Cursor.from_params(params, default=40, most=80)
    page = await page_of(svc.shards, me.id, before=cursor.max_id, limit=cursor.limit)
    link_header(
        request, response, site_url(request), page.account_ids, page.next_cursor is not None
    )
    return await entities(request, me).accounts_in_order(page.account_ids)


@router.get("/blocks", response_model=list[schemas.Account])
async def blocked(
    request: Request, response: Response, svc: ServicesDep, me: Account = user("read:blocks")
) -> list[schemas.Account]:
    return await _listed(request, response, svc, me, blocks.blocked_page)


@router.get("/mutes", response_model=list[schemas.Account])
async def muted(
    request: Request, response: Response, svc: ServicesDep, me: Account = user("read:mutes")
) -> list[schemas.Account]:
    return await _listed(request, response, svc, me, blocks.muted_page)
