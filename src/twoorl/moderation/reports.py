"""Reports: anyone signed in can report a post or an account (a reason and a comment); the
report waits in the moderators' queue until one resolves it with an outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

from twoorl.accounts.models import Account
from twoorl.errors import InvalidInput, NotFound
from twoorl.i18n import _
from twoorl.ids import new_directory_id
from twoorl.moderation.roles import Role
from twoorl.moderation.service import clean_reason, record, require_role
from twoorl.moderation.tables import reports
from twoorl.posts.service import get_post
from twoorl.storage.shards import ShardSet
from twoorl.storage.types import utcnow

CATEGORIES = ("spam", "abuse", "illegal", "other")
MAX_COMMENT = 1000
QUEUE_PAGE = 50


def category_names() -> dict[str, str]:
    return {
        "spam": _("Spam or advertising"),
        "abuse": _("Harassment or hate"),
        "illegal": _("Illegal content"),
        "other": _("Something else"),
    }


@dataclass(frozen=True)
class Report:
    id: int
    reporter_id: int
    target_account_id: int
    target_post_id: int | None
    category: str
    comment: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: int | None
    outcome: str

    @classmethod
    def from_row(cls, row) -> Report:
        return cls(
            row.id,
            row.reporter_id,
            row.target_account_id,
            row.target_post_id,
            row.category,
            row.comment,
            row.created_at,
            row.resolved_at,
            row.resolved_by,
            row.outcome,
        )


async def file_report(
    shards: ShardSet,
    reporter: Account,
    target: Account,
    *,
    post_id: int | None,
    category: str,
    comment: str,
) -> Report:
    if category not in CATEGORIES:
        raise InvalidInput(_("Choose what is wrong."), field="category")
    if target.id == reporter.id:
        raise InvalidInput(_("You cannot report yourself."))
    comment = clean_reason(comment)
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(_("That comment is too long."), field="comment")
    if post_id is not None:
        post = await get_post(shards, post_id)
        if post is None or post.author_id != target.id:
            raise NotFound(_("That post does not exist, or it was deleted."))
    row = {
        "id": new_directory_id(),
        "reporter_id": reporter.id,
        "target_account_id": target.id,
        "target_post_id": post_id,
        "category": category,
        "comment": comment,
        "created_at": utcnow(),
        "resolved_at": None,
        "resolved_by": None,
        "outcome": "",
    }
    async with shards.directory.write() as conn:
        await conn.execute(insert(reports).values(**row))
    return Report(**row)


async def queue(
    shards: ShardSet, *, resolved: bool = False, limit: int = QUEUE_PAGE
) -> list[Report]:
    """Open reports oldest first (the queue), or the latest resolved ones newest first."""
    query = select(reports).limit(limit)
    if resolved:
        query = query.where(reports.c.resolved_at.is_not(None)).order_by(reports.c.id.desc())
    else:
        query = query.where(reports.c.resolved_at.is_(None)).order_by(reports.c.id)
    async with shards.directory.read() as conn:
        return [Report.from_row(row) for row in await conn.execute(query)]


async def get_open(shards: ShardSet, report_id: int | None) -> Report | None:
    if report_id is None:
        return None
    async with shards.directory.read() as conn:
        row = (
            await conn.execute(
                select(reports).where(reports.c.id == report_id, reports.c.resolved_at.is_(None))
            )
        ).first()
    return Report.from_row(row) if row else None


async def resolve(shards: ShardSet, moderator: Account, report_id: int, outcome: str) -> bool:
    """Close a report with what was decided; the audit log gets the same outcome."""
    require_role(moderator, Role.MODERATOR)
    outcome = clean_reason(outcome)
    if not outcome:
        raise InvalidInput(_("Say what you decided."), field="outcome")
    async with shards.directory.write() as conn:
        row = (
            await conn.execute(
                update(reports)
                .where(reports.c.id == report_id, reports.c.resolved_at.is_(None))
                .values(resolved_at=utcnow(), resolved_by=moderator.id, outcome=outcome)
                .returning(reports.c.target_account_id, reports.c.target_post_id)
            )
        ).first()
        if row is None:
            return False
        await record(
            conn,
            actor_id=moderator.id,
            action="resolve_report",
            target_account_id=row.target_account_id,
            target_post_id=row.target_post_id,
            reason=outcome,
        )
    return True
