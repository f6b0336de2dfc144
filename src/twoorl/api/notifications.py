"""``/api/v1/notifications``: listing, reading one, dismissing and clearing."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from twoorl.accounts.models import Account
from twoorl.api import schemas
from twoorl.api.auth import user
from twoorl.api.common import entities
from twoorl.api.entities import NOTIFICATION_TYPES
from twoorl.api.errors import ApiError
from twoorl.api.paging import link_header, page_request
from twoorl.api.params import Params
from twoorl.i18n import _
from twoorl.ids import parse_id
from twoorl.notifications import service as notifications
from twoorl.runtime.http import ServicesDep, site_url

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("", response_model=list[schemas.Notification])
async def list_notifications(
    request: Request,
    response: Response,
    svc: ServicesDep,
    me: Account = user("read:notifications"),
) -> list[schemas.Notification]:
    params = await Params.read(request)
    cursor = page_request(params, default=40, most=80)
    wanted = set(params.texts("types")) or set(NOTIFICATION_TYPES.values())
    wanted -= set(params.texts("exclude_types"))
    kinds = [kind for kind, name in NOTIFICATION_TYPES.items() if name in wanted]
    found, has_more = await notifications.filtered_page(
        svc.shards,
        me.id,
        kinds=kinds,
        actor_id=params.id("account_id"),
        max_id=cursor.max_id,
        since_id=cursor.since_id,
        min_id=cursor.min_id,
        limit=cursor.limit,
    )
    link_header(request, response, site_url(request), [n.id for n in found], has_more)
    return await entities(request, me).notifications(found)


@router.get("/{notification_id}", response_model=schemas.Notification)
async def get_notification(
    request: Request,
    svc: ServicesDep,
    notification_id: str,
    me: Account = user("read:notifications"),
) -> schemas.Notification:
    found = await notifications.get(svc.shards, me.id, parse_id(notification_id) or 0)
    shown = await entities(request, me).notifications([found] if found else [])
    if not shown:
        raise ApiError(404, _("Record not found"))
    return shown[0]


@router.post("/clear", response_model=schemas.Empty)
async def clear(svc: ServicesDep, me: Account = user("write:notifications")) -> schemas.Empty:
    await notifications.clear(svc.shards, me.id)
    return schemas.Empty()


@router.post("/{notification_id}/dismiss", response_model=schemas.Empty)
async def dismiss(
    svc: ServicesDep, notification_id: str, me: Account = user("write:notifications")
) -> schemas.Empty:
    if not await notifications.dismiss_one(svc.shards, me.id, parse_id(notification_id) or 0):
        raise ApiError(404, _("Record not found"))
    return schemas.Empty()
