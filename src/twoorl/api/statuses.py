"""``/api/v1/statuses``: posting, reading, deleting, threads, likes and reposts."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from twoorl.accounts.models import Account
from twoorl.api import schemas
from twoorl.api.auth import maybe_user, user
from twoorl.api.common import entities, post_or_404, visible_post_or_404
from twoorl.api.errors import ApiError
from twoorl.api.paging import link_header, page_request
from twoorl.api.params import Params
from twoorl.i18n import _
from twoorl.posts import service as posts
from twoorl.reactions.service import reactors_window, repost_id_of
from twoorl.runtime import actions
from twoorl.runtime.http import ServicesDep, site_url

router = APIRouter(prefix="/api/v1/statuses", tags=["statuses"])
# Every Twoorl post is public. "unlisted" is taken as public (nothing is hidden that the
# author meant to keep hidden from followers); followers-only and direct messages are refused
# rather than published to everyone.
ACCEPTED_VISIBILITY = ("public", "unlisted")


async def _shown(request: Request, viewer: Account | None, post, **options) -> schemas.Status:
    status = await entities(request, viewer).status(post, **options)
    if status is None:
        raise ApiError(404, _("Record not found"))
    return status


@router.post("", response_model=schemas.Status)
async def create_status(
    request: Request, svc: ServicesDep, me: Account = user("write:statuses")
) -> schemas.Status:
    params = await Params.read(request)
    visibility = params.text("visibility", "public", max_length=20) or "public"
    if visibility not in ACCEPTED_VISIBILITY:
        raise ApiError(
            422, _("Twoorl posts are public: followers-only and direct posts are not possible.")
        )
    if params.ids("media_ids") or params.texts("media_ids"):
        raise ApiError(422, _("Twoorl posts are text only: media cannot be attached."))
    # A poll comes as a JSON object ("poll") or as form fields ("poll[options][]").
    if params.texts("poll") or params.texts("poll[options]"):
        raise ApiError(422, _("Twoorl has no polls."))
    if params.text("scheduled_at", max_length=100):
        raise ApiError(422, _("Twoorl cannot schedule posts."))
    if params.text("spoiler_text", "", max_length=1000):
        raise ApiError(422, _("Twoorl has no content warnings: write the warning in the post."))
    key = request.headers.get("idempotency-key")
    in_reply_to_id = params.id("in_reply_to_id")
    if in_reply_to_id is not None:
        parent = await posts.get_post(svc.shards, in_reply_to_id)
        if parent is not None and parent.is_repost:
            # A reply to a reblog answers the reblogged post (clients send the wrapper's id).
            in_reply_to_id = parent.repost_of_id
    post = await actions.create_post(
        svc,
        me,
        params.text("status", "", max_length=100_000),
        in_reply_to_id=in_reply_to_id,
        idempotency_key=key[:200] if key else None,
    )
    return await _shown(request, me, post)


@router.get("/{status_id}", response_model=schemas.Status)
async def get_status(
    request: Request,
    svc: ServicesDep,
    status_id: str,
    viewer: Account | None = maybe_user("read:statuses"),
) -> schemas.Status:
    return await _shown(request, viewer, await visible_post_or_404(svc.shards, status_id, viewer))


@router.delete("/{status_id}", response_model=schemas.Status)
async def delete_status(
    request: Request, svc: ServicesDep, status_id: str, me: Account = user("write:statuses")
) -> schemas.Status:
    post = await post_or_404(svc.shards, status_id)
    if post.author_id != me.id:
        raise ApiError(403, _("You can only delete your own posts."))
    # Rendered first: once deleted there is nothing left to render. ``text`` lets a client
    # offer "delete and redraft", as on Mastodon.
    shown = await _shown(request, me, post, source_text=True)
    await actions.delete_post(svc, me, post.id)
    return shown


@router.get("/{status_id}/context", response_model=schemas.Context)
async def context(
    request: Request,
    svc: ServicesDep,
    status_id: str,
    viewer: Account | None = maybe_user("read:statuses"),
) -> schemas.Context:
    post = await visible_post_or_404(svc.shards, status_id, viewer)
    if post.is_repost:  # a reblog's thread
        post = await visible_post_or_404(svc.shards, str(post.repost_of_id), viewer)
    ancestors, direct = await posts.thread(svc.shards, post, viewer.id if viewer else None)
    built = entities(request, viewer)
    return schemas.Context(
        ancestors=await built.statuses(ancestors),
        descendants=await built.statuses(await posts.descendants(svc.shards, post, direct)),
    )


async def _react(request, svc, me: Account, status_id: str, action: str) -> schemas.Status:
    target = await post_or_404(svc.shards, status_id)
    original = await actions.react(svc, me, action, target.id)
    if action == "repost":
        repost_id = await repost_id_of(svc.shards, me.id, original.id)
        repost = await posts.get_post(svc.shards, repost_id) if repost_id else None
        if repost is not None:
            return await _shown(request, me, repost)
    return await _shown(request, me, original)


@router.post("/{status_id}/favourite", response_model=schemas.Status)
async def favourite(
    request: Request, svc: ServicesDep, status_id: str, me: Account = user("write:favourites")
) -> schemas.Status:
    return await _react(request, svc, me, status_id, "like")


@router.post("/{status_id}/unfavourite", response_model=schemas.Status)
async def unfavourite(
    request: Request, svc: ServicesDep, status_id: str, me: Account = user("write:favourites")
) -> schemas.Status:
    return await _react(request, svc, me, status_id, "unlike")


@router.post("/{status_id}/reblog", response_model=schemas.Status)
async def reblog(
    request: Request, svc: ServicesDep, status_id: str, me: Account = user("write:statuses")
) -> schemas.Status:
    return await _react(request, svc, me, status_id, "repost")


@router.post("/{status_id}/unreblog", response_model=schemas.Status)
async def unreblog(
    request: Request, svc: ServicesDep, status_id: str, me: Account = user("write:statuses")
) -> schemas.Status:
    return await _react(request, svc, me, status_id, "unrepost")


async def _reactors(request, response, svc, viewer, status_id: str, kind: str):
    target = await post_or_404(svc.shards, status_id)
    original_id = target.repost_of_id or target.id
    params = await Params.read(request)
    cursor = page_request(params, default=40, most=80)
    ids, has_more = await reactors_window(
        svc.shards,
        original_id,
        kind,
        max_id=cursor.max_id,
        since_id=cursor.since_id,
        min_id=cursor.min_id,
        limit=cursor.limit,
    )
    link_header(request, response, site_url(request), ids, has_more)
    return await entities(request, viewer).accounts_in_order(ids)


@router.get("/{status_id}/favourited_by", response_model=list[schemas.Account])
async def favourited_by(
    request: Request,
    response: Response,
    svc: ServicesDep,
    status_id: str,
    viewer: Account | None = maybe_user("read:accounts"),
) -> list[schemas.Account]:
    return await _reactors(request, response, svc, viewer, status_id, "likes")


@router.get("/{status_id}/reblogged_by", response_model=list[schemas.Account])
async def reblogged_by(
    request: Request,
    response: Response,
    svc: ServicesDep,
    status_id: str,
    viewer: Account | None = maybe_user("read:accounts"),
) -> list[schemas.Account]:
    return await _reactors(request, response, svc, viewer, status_id, "reposts")
