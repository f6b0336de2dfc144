"""``POST /api/v1/reports``: reporting an account (and some of its posts) from an app."""

from __future__ import annotations

from fastapi import APIRouter, Request

from twoorl.accounts.models import Account
from twoorl.api import schemas
from twoorl.api.auth import user
from twoorl.api.common import account_or_404, entities
from twoorl.api.params import Params
from twoorl.moderation import reports
from twoorl.runtime.http import ServicesDep

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
# Mastodon's categories and Twoorl's, both ways.
FROM_MASTODON = {"spam": "spam", "violation": "abuse", "legal": "illegal", "other": "other"}
TO_MASTODON = {ours: theirs for theirs, ours in FROM_MASTODON.items()}


@router.post("", response_model=schemas.Report)
async def file_report(
    request: Request, svc: ServicesDep, me: Account = user("write:reports")
) -> schemas.Report:
    params = await Params.read(request)
    target = await account_or_404(svc.shards, params.text("account_id", "", max_length=40))
    status_ids = params.ids("status_ids")
    category = FROM_MASTODON.get(params.text("category", "other", max_length=20) or "other", "")
    # One report per reported post (Twoorl's queue shows each post), or one for the account.
    filed = [
        await reports.file_report(
            svc.shards,
            me,
            target,
            post_id=post_id,
            category=category,
            comment=params.text("comment", "", max_length=reports.MAX_COMMENT * 2),
        )
        for post_id in (status_ids or [None])
    ]
    first = filed[0]
    return schemas.Report(
        id=str(first.id),
        action_taken=False,
        action_taken_at=None,
        category=TO_MASTODON[first.category],
        comment=first.comment,
        forwarded=False,
        created_at=first.created_at,
        status_ids=[str(i) for i in status_ids] or None,
        rule_ids=None,
        target_account=await entities(request, me).account(target),
    )
