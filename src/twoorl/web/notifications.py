"""The notifications page; opening it marks what it shows as read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from twoorl.accounts import service as accounts
from twoorl.i18n import _
from twoorl.ids import MAX_ID
from twoorl.notifications import service as notifications
from twoorl.posts.service import get_posts
from twoorl.runtime.http import ServicesDep
from twoorl.web.auth import CurrentAccount
from twoorl.web.templating import render

router = APIRouter()


@router.get("/notifications")
async def notifications_page(
    request: Request,
    svc: ServicesDep,
    account: CurrentAccount,
    max_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    found, next_max_id = await notifications.page(svc.shards, account.id, max_id=max_id)
    groups = notifications.group(found)
    people = await accounts.get_many(svc.shards, {a for g in groups for a in g.actor_ids})
    related = await get_posts(svc.shards, {g.post_id for g in groups if g.post_id})
    if found and not max_id:
        await notifications.mark_read(svc.shards, account.id, found[0].id)
        request.state.unread_notifications = 0
    return render(
        request,
        "notifications.html",
        {
            "title": _("Notifications"),
            "groups": [g for g in groups if any(a in people for a in g.actor_ids)],
            "people": people,
            "related": related,
            "next_max_id": next_max_id,
        },
    )
