"""``GET /api/v1/blocks`` and ``/api/v1/mutes``: the people the user blocked or muted, newest
account first, paged with ``Link`` like followers (blocking and muting are in ``accounts``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from twoorl.accounts.models import Account
from twoorl.api import schemas
from twoorl.api.auth import user
from twoorl.api.common import accounts_page
from twoorl.graph import blocks

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.get("/blocks", response_model=list[schemas.Account])
async def blocked(
    request: Request, response: Response, me: Account = user("read:blocks")
) -> list[schemas.Account]:
    return await accounts_page(request, response, me.id, me, blocks.blocked_page)


@router.get("/mutes", response_model=list[schemas.Account])
async def muted(
    request: Request, response: Response, me: Account = user("read:mutes")
) -> list[schemas.Account]:
    return await accounts_page(request, response, me.id, me, blocks.muted_page)
