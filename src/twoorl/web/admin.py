"""``/admin``: moderators find people, mark spammers, suspend and unsuspend, delete posts, read
the audit log and retry failed jobs; admins also grant roles. Every route answers 403 to
anyone below moderator."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from twoorl.accounts import service as accounts
from twoorl.accounts.models import Account
from twoorl.errors import NotFound
from twoorl.i18n import _
from twoorl.ids import parse_id
from twoorl.jobs import admin as job_admin
from twoorl.moderation import reports
from twoorl.moderation import service as moderation
from twoorl.moderation.roles import Role, role_of
from twoorl.posts.service import get_post, get_posts
from twoorl.runtime import actions
from twoorl.runtime.http import ServicesDep
from twoorl.runtime.services import Services
from twoorl.web.auth import required_account, safe_next
from twoorl.web.security import CsrfChecked
from twoorl.web.templating import render

router = APIRouter(prefix="/admin")
Reason = Annotated[str, Form(max_length=moderation.MAX_REASON * 2)]
ACCOUNT_ACTIONS = ("spam", "unspam", "suspend", "unsuspend")


async def moderator(request: Request) -> Account:
    account = await required_account(request)
    moderation.require_role(account, Role.MODERATOR)
    return account


Moderator = Annotated[Account, Depends(moderator)]


def _back(request_next: str, fallback: str = "/admin") -> Response:
    target = safe_next(request_next, fallback)
    return RedirectResponse(target if target.startswith("/admin") else fallback, status_code=303)


@router.get("")
async def dashboard(request: Request, svc: ServicesDep, me: Moderator, q: str = "") -> Response:
    q = q[:100]
    found = await moderation.find_accounts(svc.shards, q)
    return render(
        request,
        "admin/index.html",
        {
            "title": _("Moderation"),
            "q": q,
            "found": found,
            # Actions only on the people this moderator outranks (the server checks it too).
            "actionable": {person.id for person in found if moderation.outranks(me, person)},
            "roles": [role.value for role in Role],
            "role_names": role_names(),
            "is_admin": role_of(me.role) is Role.ADMIN,
            "here": "/admin?" + urlencode({"q": q}) if q else "/admin",
        },
    )


async def _target(svc: Services, account_id: str) -> Account:
    target = await accounts.get_by_id(svc.shards, parse_id(account_id) or 0)
    if target is None:
        raise NotFound(_("Nobody has that account."))
    return target


@router.post("/accounts/{account_id}/role")
async def set_role(
    svc: ServicesDep,
    me: Moderator,
    _csrf: CsrfChecked,
    account_id: str,
    role: Annotated[str, Form(max_length=20)],
    reason: Reason = "",
    next: Annotated[str, Form(max_length=2000)] = "/admin",
) -> Response:
    target = await _target(svc, account_id)
    await moderation.grant_role(svc.shards, me, target, role_of(role), reason)
    return _back(next)


@router.post("/accounts/{account_id}/{action}")
async def act_on_account(
    svc: ServicesDep,
    me: Moderator,
    _csrf: CsrfChecked,
    account_id: str,
    action: str,
    reason: Reason = "",
    next: Annotated[str, Form(max_length=2000)] = "/admin",
) -> Response:
    if action not in ACCOUNT_ACTIONS:
        raise NotFound(_("This page does not exist."))
    target = await _target(svc, account_id)
    if action in ("spam", "unspam"):
        await moderation.mark_spam(svc.shards, me, target, action == "spam", reason)
    elif action == "suspend":
        await moderation.suspend(svc.shards, me, target, reason)
    else:
        await moderation.unsuspend(svc.shards, me, target, reason)
    svc.worker.wake()
    return _back(next)


@router.post("/posts/{post_id}/delete")
async def delete_post(
    svc: ServicesDep,
    me: Moderator,
    _csrf: CsrfChecked,
    post_id: str,
    reason: Reason = "",
    next: Annotated[str, Form(max_length=2000)] = "/admin/log",
) -> Response:
    await actions.remove_post(svc, me, parse_id(post_id) or 0, reason)
    target = safe_next(next, "/admin/log")
    return RedirectResponse(target, status_code=303)


@router.get("/log")
async def audit_log(
    request: Request, svc: ServicesDep, me: Moderator, max_id: str = ""
) -> Response:
    entries, older = await moderation.log_page(svc.shards, max_id=parse_id(max_id))
    people = await accounts.get_many(
        svc.shards,
        [e.actor_id for e in entries if e.actor_id]
        + [e.target_account_id for e in entries if e.target_account_id],
    )
    return render(
        request,
        "admin/log.html",
        {
            "title": _("Moderation log"),
            "entries": entries,
            "people": people,
            "older": older,
            "action_names": action_names(),
        },
    )


@router.get("/reports")
async def report_queue(request: Request, svc: ServicesDep, me: Moderator) -> Response:
    open_reports = await reports.queue(svc.shards)
    closed = await reports.queue(svc.shards, resolved=True, limit=20)
    people = await accounts.get_many(
        svc.shards,
        [r.reporter_id for r in open_reports + closed]
        + [r.target_account_id for r in open_reports + closed]
        + [r.resolved_by for r in closed if r.resolved_by],
    )
    reported_posts = await get_posts(
        svc.shards, [r.target_post_id for r in open_reports if r.target_post_id]
    )
    return render(
        request,
        "admin/reports.html",
        {
            "title": _("Reports"),
            "open_reports": open_reports,
            "closed": closed,
            "people": people,
            "posts": reported_posts,
            "categories": reports.category_names(),
            "decisions": decision_names(),
        },
    )


def role_names() -> dict[str, str]:
    return {
        Role.USER: _("User"),
        Role.MODERATOR: _("Moderator"),
        Role.ADMIN: _("Admin"),
    }


def action_names() -> dict[str, str]:
    """What the audit log's action codes mean, in the reader's language."""
    return {
        "grant_user": _("Role set to user"),
        "grant_moderator": _("Role set to moderator"),
        "grant_admin": _("Role set to admin"),
        "mark_spam": _("Marked as spam"),
        "unmark_spam": _("Spam mark removed"),
        "suspend": _("Suspended"),
        "unsuspend": _("Unsuspended"),
        "delete_post": _("Post deleted"),
        "resolve_report": _("Report resolved"),
    }


def decision_names() -> dict[str, str]:
    return {
        "none": _("No action"),
        "delete_post": _("Delete the post"),
        "spam": _("Mark the account as spam"),
        "suspend": _("Suspend the account"),
    }


@router.post("/reports/{report_id}/resolve")
async def resolve_report(
    svc: ServicesDep,
    me: Moderator,
    _csrf: CsrfChecked,
    report_id: str,
    outcome: Reason = "",
    decision: Annotated[str, Form(max_length=20)] = "none",
) -> Response:
    """Act on a report (optionally) and close it with the outcome, in that order: a failed
    action leaves the report open."""
    found = await reports.get_open(svc.shards, parse_id(report_id))
    if found is None:
        raise NotFound(_("That report is already resolved, or it does not exist."))
    target = await _target(svc, str(found.target_account_id))
    if decision == "delete_post" and found.target_post_id:
        if await get_post(svc.shards, found.target_post_id):
            await actions.remove_post(svc, me, found.target_post_id, outcome)
    elif decision == "spam":
        await moderation.mark_spam(svc.shards, me, target, True, outcome)
    elif decision == "suspend":
        await moderation.suspend(svc.shards, me, target, outcome)
    await reports.resolve(svc.shards, me, found.id, outcome)
    svc.worker.wake()
    return RedirectResponse("/admin/reports", status_code=303)


@router.get("/jobs")
async def failed_jobs(request: Request, svc: ServicesDep, me: Moderator) -> Response:
    return render(
        request,
        "admin/jobs.html",
        {"title": _("Failed jobs"), "jobs": await job_admin.failed_jobs(svc.shards)},
    )


@router.post("/jobs/{job_id}/retry")
async def retry_job(svc: ServicesDep, me: Moderator, _csrf: CsrfChecked, job_id: str) -> Response:
    await job_admin.retry_job(svc.shards, parse_id(job_id) or 0)
    svc.worker.wake()
    return RedirectResponse("/admin/jobs", status_code=303)
