"""``/api/v1/streaming``: Mastodon's Server-Sent Events streams.

Each event carries the full entity as the subscriber should see it (``update`` a Status,
``notification`` a Notification, ``delete`` a status id), with ``:`` heartbeats between.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from sse_starlette.event import ServerSentEvent
from sse_starlette.sse import EventSourceResponse

from twoorl.accounts.models import Account
from twoorl.api.auth import maybe_user, user
from twoorl.api.common import entities
from twoorl.api.entities import NOTIFICATION_TYPES, Entities
from twoorl.api.params import TRUE_WORDS
from twoorl.graph.service import followee_ids
from twoorl.live.events import catch_up_for, shared_post
from twoorl.notifications import service as notifications
from twoorl.posts.service import get_post
from twoorl.posts.text import hashtags, normalize_tag
from twoorl.reactions.service import repost_id_of
from twoorl.runtime.http import ServicesDep
from twoorl.runtime.services import Services

router = APIRouter(prefix="/api/v1/streaming", tags=["streaming"])
FOLLOWEES_REFRESH_SECONDS = 60
# Streams are documented as what they send: Server-Sent Events, not a JSON body.
EVENT_STREAM: dict[str, Any] = {
    "response_class": EventSourceResponse,
    "responses": {
        200: {
            "description": "Server-Sent Events: `update` (a Status), `notification` "
            "(a Notification) and `delete` (a status id), with comment heartbeats.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
}


def _heartbeat() -> ServerSentEvent:
    return ServerSentEvent(comment="thump")


def _stream(svc: Services, events: AsyncIterator[dict[str, str]]) -> EventSourceResponse:
    return EventSourceResponse(
        events,
        ping=svc.settings.stream_heartbeat_seconds,
        ping_message_factory=_heartbeat,
        sep="\n",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/health", response_class=PlainTextResponse)
async def health() -> str:
    return "OK"


async def _update(built: Entities, svc: Services, event: dict[str, Any]) -> dict | None:
    """The Status for a live ``post`` event: the post, or for a repost the reposter's entry."""
    if event.get("repost"):
        entry_id = await repost_id_of(svc.shards, event["author_id"], event["post_id"])
        entry = await get_post(svc.shards, entry_id) if entry_id else None
    else:
        entry = await get_post(svc.shards, event["post_id"])
    # statuses(), not status(): leaves out the posts of people the viewer muted or blocked.
    found = await built.statuses([entry]) if entry else []
    if not found:
        return None
    status = found[0]
    return {"event": "update", "data": status.model_dump_json()}


def _delete(event: dict[str, Any]) -> dict[str, str]:
    return {"event": "delete", "data": str(event["post_id"])}


class _NotificationCursor:
    """New notifications since the stream opened: live events say only "something new"."""

    def __init__(self, svc: Services, built: Entities, account_id: int) -> None:
        self.svc, self.built, self.account_id = svc, built, account_id
        self.last_id = 0

    async def start(self) -> None:
        newest, _more = await notifications.filtered_page(
            self.svc.shards, self.account_id, kinds=list(NOTIFICATION_TYPES), limit=1
        )
        self.last_id = newest[0].id if newest else 0

    async def fresh(self) -> list[dict[str, str]]:
        found, _more = await notifications.filtered_page(
            self.svc.shards,
            self.account_id,
            kinds=list(NOTIFICATION_TYPES),
            min_id=self.last_id,
            limit=40,
        )
        if not found:
            return []
        self.last_id = found[0].id
        shown = await self.built.notifications(list(reversed(found)))
        return [{"event": "notification", "data": n.model_dump_json()} for n in shown]


@router.get("/user", **EVENT_STREAM)
async def user_stream(
    request: Request, svc: ServicesDep, me: Account = user("read:statuses")
) -> EventSourceResponse:
    return _stream(svc, _user_events(request, svc, me, with_updates=True))


@router.get("/user/notification", **EVENT_STREAM)
async def notification_stream(
    request: Request, svc: ServicesDep, me: Account = user("read:notifications")
) -> EventSourceResponse:
    return _stream(svc, _user_events(request, svc, me, with_updates=False))


async def _user_events(
    request: Request, svc: Services, me: Account, *, with_updates: bool
) -> AsyncIterator[dict[str, str]]:
    built = entities(request, me)
    channels = [f"notifications:{me.id}"]
    if with_updates:
        channels += ["posts", "deletes", f"follows:{me.id}"]
    cursor = _NotificationCursor(svc, built, me.id)
    await cursor.start()
    async with svc.broker.subscribe(*channels) as queue:
        # A notification stored after the cursor was set but announced before we listened
        # would otherwise wait for the next one: look once now that we listen.
        for item in await cursor.fresh():
            yield item
        authors = {me.id, *await followee_ids(svc.shards, me.id)} if with_updates else set()
        loaded_at = time.monotonic()
        while True:
            event = await queue.get()
            await catch_up_for(svc.shards, event)
            kind = event.get("type")
            if kind == "notification":
                for item in await cursor.fresh():
                    yield item
                continue
            if kind == "follows" or time.monotonic() - loaded_at > FOLLOWEES_REFRESH_SECONDS:
                authors = {me.id, *await followee_ids(svc.shards, me.id)}
                loaded_at = time.monotonic()
            if kind == "post" and event["author_id"] in authors:
                update = await _update(built, svc, event)
                if update:
                    yield update
            elif kind == "delete":
                yield _delete(event)


@router.get("/public", **EVENT_STREAM)
@router.get("/public/local", **EVENT_STREAM)
@router.get("/public/remote", **EVENT_STREAM)
async def public_stream(
    request: Request,
    svc: ServicesDep,
    only_media: str = "",
    viewer: Account | None = maybe_user("read:statuses"),
) -> EventSourceResponse:
    if _nothing_could_match(request, only_media):
        return _stream(svc, _quiet())
    return _stream(svc, _public_events(request, svc, viewer, tag=None))


@router.get("/hashtag", **EVENT_STREAM)
@router.get("/hashtag/local", **EVENT_STREAM)
async def hashtag_stream(
    request: Request,
    svc: ServicesDep,
    tag: str = "",
    only_media: str = "",
    viewer: Account | None = maybe_user("read:statuses"),
) -> EventSourceResponse:
    if _nothing_could_match(request, only_media):
        return _stream(svc, _quiet())
    return _stream(svc, _public_events(request, svc, viewer, tag=normalize_tag(tag)[:100]))


def _nothing_could_match(request: Request, only_media: str) -> bool:
    # Every Twoorl post is local text: remote-only and media-only streams stay quiet
    # (heartbeats only) rather than sending posts the client asked not to get.
    return request.url.path.endswith("/remote") or only_media.lower() in TRUE_WORDS


async def _quiet() -> AsyncIterator[dict[str, str]]:
    await asyncio.Event().wait()  # until the client goes away
    yield {}


async def _public_events(
    request: Request, svc: Services, viewer: Account | None, *, tag: str | None
) -> AsyncIterator[dict[str, str]]:
    built = entities(request, viewer)
    async with svc.broker.subscribe("posts", "deletes") as queue:
        while True:
            event = await queue.get()
            await catch_up_for(svc.shards, event)
            if event.get("type") == "delete":
                yield _delete(event)
            elif shared_post(event):
                if tag is not None:
                    post = await get_post(svc.shards, event["post_id"])
                    if post is None or tag not in hashtags(post.text):
                        continue
                update = await _update(built, svc, event)
                if update:
                    yield update
