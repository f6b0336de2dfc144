"""``/users``: the directory of people, newest or most followed first, by cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from twoorl.graph.service import followed_among
from twoorl.i18n import _
from twoorl.runtime.http import ServicesDep
from twoorl.search import directory
from twoorl.web.auth import MaybeAccount
from twoorl.web.templating import render

router = APIRouter()


@router.get("/users")
async def users(
    request: Request,
    svc: ServicesDep,
    viewer: MaybeAccount,
    order: Annotated[str, Query(max_length=20)] = "new",
    before: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    order = order if order in directory.ORDERS else "new"
    cursor = directory.parse_cursor(order, before)
    if order == "popular":
        page = await directory.most_followed(
            svc.shards, after=cursor, limit=directory.PER_PAGE, viewer=viewer
        )
    else:
        page = await directory.newest(
            svc.shards,
            before=cursor[1] if cursor else None,
            limit=directory.PER_PAGE,
            viewer=viewer,
        )
    followed = (
        await followed_among(svc.shards, viewer.id, [e.account.id for e in page.entries])
        if viewer
        else set()
    )
    return render(
        request,
        "users.html",
        {
            "title": _("People"),
            "order": order,
            "entries": page.entries,
            "followed": followed,
            "next_cursor": page.next_cursor,
        },
    )
