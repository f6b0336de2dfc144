"""Like, unlike, repost and undo repost from any post's buttons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from twoorl.errors import NotFound
from twoorl.i18n import _
from twoorl.ids import parse_id
from twoorl.runtime import actions
from twoorl.runtime.http import ServicesDep
from twoorl.web.auth import CurrentAccount, safe_next
from twoorl.web.security import CsrfChecked

router = APIRouter()


@router.post("/posts/{post_id}/{action}")
async def react(
    svc: ServicesDep,
    account: CurrentAccount,
    _csrf: CsrfChecked,
    post_id: str,
    action: str,
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    target = parse_id(post_id)
    if action not in actions.REACTIONS or target is None:
        raise NotFound(_("That post does not exist, or it was deleted."))
    post = await actions.react(svc, account, action, target)
    return RedirectResponse(f"{safe_next(next)}#post-{post.id}", status_code=303)
