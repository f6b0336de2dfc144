"""Posting, deleting and the permalink page with its thread."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from twoorl.accounts import service as accounts
from twoorl.errors import Forbidden, NotFound, TwoorlError
from twoorl.graph.blocks import hidden_from_viewer
from twoorl.i18n import _
from twoorl.ids import parse_id
from twoorl.posts import service as posts
from twoorl.posts.models import Post
from twoorl.runtime import actions
from twoorl.runtime.http import ServicesDep
from twoorl.runtime.services import Services
from twoorl.timelines.visible import visible
from twoorl.web.auth import CurrentAccount, MaybeAccount, safe_next
from twoorl.web.security import CsrfChecked
from twoorl.web.templating import render
from twoorl.web.timelines import home_page

router = APIRouter()


def permalink(username: str, post_id: int) -> str:
    return f"/@{username}/{post_id}"


@router.post("/posts")
async def create(
    request: Request,
    svc: ServicesDep,
    account: CurrentAccount,
    _csrf: CsrfChecked,
    status: Annotated[str, Form(max_length=20_000)] = "",
    in_reply_to_id: Annotated[str, Form(max_length=30)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    # An unparseable id names no post: 0 makes the service refuse it like a deleted one.
    reply_to = (parse_id(in_reply_to_id) or 0) if in_reply_to_id else None
    try:
        await actions.create_post(svc, account, status, in_reply_to_id=reply_to)
    except TwoorlError as error:
        parent = await posts.get_post(svc.shards, reply_to) if reply_to else None
        # Back to the thread with the words kept; to the home page if its author blocked them.
        if parent is not None and not await hidden_from_viewer(
            svc.shards, parent.author_id, account
        ):
            return await permalink_page(
                request, svc, parent, reply_error=error, reply_text=status, viewer=account
            )
        return await home_page(request, svc, account, compose_error=error, compose_text=status)
    return RedirectResponse(safe_next(next), status_code=303)


async def _find_post(svc: Services, username: str, post_id: str) -> Post:
    post = await posts.get_post(svc.shards, parse_id(post_id))
    author = await accounts.get_by_username(svc.shards, username)
    if post is None or author is None or post.author_id != author.id:
        raise NotFound(_("That post does not exist, or it was deleted."))
    return post


@router.post("/@{username}/{post_id}/delete")
async def delete(
    svc: ServicesDep,
    account: CurrentAccount,
    _csrf: CsrfChecked,
    username: str,
    post_id: str,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    post = await _find_post(svc, username, post_id)
    await actions.delete_post(svc, account, post.id)
    back = safe_next(next, f"/@{account.username}")
    if back == permalink(username, post.id):
        back = f"/@{account.username}"
    return RedirectResponse(back, status_code=303)


async def permalink_page(
    request: Request,
    svc: Services,
    post: Post,
    *,
    viewer,
    reply_error: TwoorlError | None = None,
    reply_text: str | None = None,
) -> Response:
    if await hidden_from_viewer(svc.shards, post.author_id, viewer):
        author = await accounts.get_by_id(svc.shards, post.author_id)
        raise Forbidden(
            _("@%(username)s has blocked you.") % {"username": author.username if author else ""}
        )
    ancestors, replies = await posts.thread(svc.shards, post, viewer.id if viewer else None)
    seen = await visible(
        svc.shards,
        [*ancestors, post, *replies],
        viewer,
        keep_author_id=post.author_id,  # blocks/mutes: the post asked for is always shown
    )
    shown = seen.posts
    by_id = {view.id: view for view in shown}
    focus = by_id.get(post.id)
    if focus is None:
        raise NotFound(_("That post does not exist, or it was deleted."))
    if reply_text is None and viewer is not None:
        reply_text = "" if focus.author.id == viewer.id else f"@{focus.author.username} "
    return render(
        request,
        "permalink.html",
        {
            "title": _("%(name)s on Twoorl") % {"name": focus.author.name},
            "focus": focus,
            "ancestors": [by_id[p.id] for p in ancestors if p.id in by_id],
            "replies": [by_id[p.id] for p in replies if p.id in by_id],
            "reply_error": reply_error,
            "reply_text": reply_text or "",
        },
        status_code=reply_error.status_code if reply_error else 200,
    )


@router.get("/@{username}/{post_id}")
async def show(
    request: Request, svc: ServicesDep, viewer: MaybeAccount, username: str, post_id: str
) -> Response:
    post = await _find_post(svc, username, post_id)
    return await permalink_page(request, svc, post, viewer=viewer)
