"""Server-Sent Events: new posts for the public and home timelines, and notification counts.

Events carry ids only; the page fetches the posts themselves (rendered for the viewer) when
the person asks for them, so a stream never leaks anything a page would not show.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from sse_starlette.sse import EventSourceResponse

from twoorl.accounts.models import Account
from twoorl.graph.service import followee_ids
from twoorl.live.events import catch_up_for, shared_post
from twoorl.notifications.service import unread_count
from twoorl.runtime.http import ServicesDep
from twoorl.runtime.services import Services
from twoorl.timelines.visible import hidden_from
from twoorl.web.auth import CurrentAccount, MaybeAccount

router = APIRouter()
HEARTBEAT_SECONDS = 15
FOLLOWEES_REFRESH_SECONDS = 60


def _post_event(event: dict[str, Any]) -> dict[str, str]:
    return {"event": "post", "data": json.dumps({"post_id": str(event["post_id"])})}


@router.get("/stream/public")
async def public_stream(svc: ServicesDep, viewer: MaybeAccount) -> EventSourceResponse:
    channels = ["posts"] + ([f"follows:{viewer.id}"] if viewer else [])

    async def events() -> AsyncIterator[dict[str, str]]:
        async with svc.broker.subscribe(*channels) as queue:
            # The people the viewer muted or blocked: the page leaves their posts out, so
            # "new posts" does not count them (a mute or block publishes ``follows:``).
            hidden = await hidden_from(svc.shards, viewer)
            yield {"event": "ready", "data": "{}"}
            while True:
                event = await queue.get()
                await catch_up_for(svc.shards, event)
                if event["type"] == "follows":
                    hidden = await hidden_from(svc.shards, viewer)
                elif shared_post(event) and event["author_id"] not in hidden:
                    yield _post_event(event)

    return EventSourceResponse(events(), ping=HEARTBEAT_SECONDS)


async def _home_authors(svc: Services, account: Account) -> set[int]:
    """Whose posts the home stream announces: the reader and their followees, less the people
    they muted or blocked (a mute or block publishes ``follows:`` so an open stream reloads)."""
    authors = {account.id, *await followee_ids(svc.shards, account.id)}
    return authors - await hidden_from(svc.shards, account)


@router.get("/stream/home")
async def home_stream(svc: ServicesDep, account: CurrentAccount) -> EventSourceResponse:
    async def events() -> AsyncIterator[dict[str, str]]:
        async with svc.broker.subscribe("posts", f"follows:{account.id}") as queue:
            authors = await _home_authors(svc, account)
            loaded_at = time.monotonic()
            yield {"event": "ready", "data": "{}"}
            while True:
                event = await queue.get()
                await catch_up_for(svc.shards, event)
                stale = time.monotonic() - loaded_at > FOLLOWEES_REFRESH_SECONDS
                if event["type"] == "follows" or stale:
                    authors = await _home_authors(svc, account)
                    loaded_at = time.monotonic()
                if event["type"] == "post" and event["author_id"] in authors:
                    yield _post_event(event)

    return EventSourceResponse(events(), ping=HEARTBEAT_SECONDS)


@router.get("/stream/notifications")
async def notifications_stream(svc: ServicesDep, account: CurrentAccount) -> EventSourceResponse:
    async def events() -> AsyncIterator[dict[str, str]]:
        async with svc.broker.subscribe(f"notifications:{account.id}") as queue:
            yield {"event": "ready", "data": "{}"}
            while True:
                await queue.get()
                count = await unread_count(svc.shards, account.id)
                yield {"event": "notifications", "data": json.dumps({"unread": count})}

    return EventSourceResponse(events(), ping=HEARTBEAT_SECONDS)
