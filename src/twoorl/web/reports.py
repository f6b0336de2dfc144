"""Reporting a post or a person to the moderators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from twoorl.accounts import service as accounts
from twoorl.accounts.models import Account
from twoorl.errors import NotFound, TwoorlError
from twoorl.i18n import _
from twoorl.ids import parse_id
from twoorl.moderation import reports
from twoorl.posts.service import get_post
from twoorl.runtime.http import ServicesDep, enforce_rate_limit
from twoorl.runtime.services import Services
from twoorl.web.auth import CurrentAccount
from twoorl.web.security import CsrfChecked
from twoorl.web.templating import render

router = APIRouter()
RATE = "30/hour"  # per address: enough for real use, too few to flood the queue


async def _subject(svc: Services, username: str, post_id: str) -> tuple[Account, int | None]:
    """What is being reported: a post (and its author), or an account."""
    post = await get_post(svc.shards, parse_id(post_id)) if post_id else None
    if post_id and post is None:
        raise NotFound(_("That post does not exist, or it was deleted."))
    target = (
        await accounts.get_by_id(svc.shards, post.author_id)
        if post
        else await accounts.get_by_username(svc.shards, username.removeprefix("@"))
    )
    if target is None:
        raise NotFound(_("Nobody has that account."))
    return target, post.id if post else None


def _form(request, target, post_id, *, error=None, comment="", category="", status_code=200):
    return render(
        request,
        "report.html",
        {
            "title": _("Report @%(username)s") % {"username": target.username},
            "target": target,
            "post_id": post_id,
            "categories": reports.category_names(),
            "error": error,
            "comment": comment,
            "category": category,
        },
        status_code=status_code,
    )


@router.get("/report")
async def report_form(
    request: Request, svc: ServicesDep, me: CurrentAccount, account: str = "", post: str = ""
) -> Response:
    target, post_id = await _subject(svc, account[:40], post[:30])
    return _form(request, target, post_id)


@router.post("/report")
async def report(
    request: Request,
    svc: ServicesDep,
    me: CurrentAccount,
    _csrf: CsrfChecked,
    account: Annotated[str, Form(max_length=40)] = "",
    post: Annotated[str, Form(max_length=30)] = "",
    category: Annotated[str, Form(max_length=20)] = "",
    comment: Annotated[str, Form(max_length=reports.MAX_COMMENT * 2)] = "",
) -> Response:
    target, post_id = await _subject(svc, account, post)
    try:
        await enforce_rate_limit(request, svc, "report", RATE)
        await reports.file_report(
            svc.shards, me, target, post_id=post_id, category=category, comment=comment
        )
    except TwoorlError as error:
        return _form(
            request,
            target,
            post_id,
            error=error,
            comment=comment,
            category=category,
            status_code=error.status_code,
        )
    return render(request, "report_sent.html", {"title": _("Thank you"), "target": target})
