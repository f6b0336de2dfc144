"""Moderation actions. Each one changes the account directory and writes its audit entry in
the same transaction, so the log never misses an action nor records one that did not happen.

A moderator acts only on people ranked below them (a moderator cannot suspend an admin or
another moderator); only admins grant roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from twoorl.accounts import sessions
from twoorl.accounts.models import Account
from twoorl.accounts.tables import accounts
from twoorl.caching.changes import record_change
from twoorl.errors import Forbidden
from twoorl.i18n import _
from twoorl.ids import new_directory_id, new_id
from twoorl.jobs.outbox import enqueue
from twoorl.moderation.roles import Role, role_of
from twoorl.moderation.tables import audit_log
from twoorl.oauth import service as oauth
from twoorl.posts.text import strip_control_characters
from twoorl.storage.shards import ShardSet
from twoorl.storage.types import utcnow

MAX_REASON = 1000
LOG_PAGE = 50


@dataclass(frozen=True)
class AuditEntry:
    id: int
    actor_id: int | None
    action: str
    target_account_id: int | None
    target_post_id: int | None
    reason: str
    created_at: datetime


def clean_reason(reason: str) -> str:
    return strip_control_characters(reason or "").strip()[:MAX_REASON]


async def record(
    conn: AsyncConnection,
    *,
    actor_id: int | None,
    action: str,
    target_account_id: int | None = None,
    target_post_id: int | None = None,
    reason: str = "",
) -> None:
    """Write an audit entry on ``conn`` (the directory), inside the action's transaction."""
    await conn.execute(
        insert(audit_log).values(
            id=new_directory_id(),
            actor_id=actor_id,
            action=action,
            target_account_id=target_account_id,
            target_post_id=target_post_id,
            reason=clean_reason(reason),
            created_at=utcnow(),
        )
    )


def require_role(actor: Account | None, role: Role) -> None:
    if actor is None or not role_of(actor.role).at_least(role):
        raise Forbidden(_("Only moderators can do that."))


def outranks(actor: Account, target: Account) -> bool:
    """Whether ``actor`` may moderate ``target``: a moderator at least, ranked above them."""
    rank = role_of(actor.role)
    return rank.at_least(Role.MODERATOR) and role_of(target.role).rank < rank.rank


def check_outranks(actor: Account | None, target: Account) -> None:
    """``None`` is the command line (the operator), who may do anything."""
    if actor is None:
        return
    require_role(actor, Role.MODERATOR)
    if not outranks(actor, target):
        raise Forbidden(_("You cannot moderate someone with the same role as yours or higher."))


async def _update_account(
    shards: ShardSet,
    actor: Account | None,
    target: Account,
    action: str,
    reason: str,
    *,
    hides_posts: bool = False,
    **values,
) -> None:
    async with shards.directory.write() as conn:
        await conn.execute(update(accounts).where(accounts.c.id == target.id).values(**values))
        record_change(conn, "account", target.id)
        await record(
            conn,
            actor_id=actor.id if actor else None,
            action=action,
            target_account_id=target.id,
            reason=reason,
        )
        if hides_posts:
            # The posts live on the target's shard: a job there follows this commit.
            await enqueue(
                conn,
                "moderation.hide_posts",
                {"account_id": target.id},
                owner_id=_directory_owner(shards),
            )


def _directory_owner(shards: ShardSet) -> int:
    """An id on the directory's shard, for jobs queued in the directory's outbox."""
    return new_id(shards.logical_shards_of(shards.directory).start)


async def grant_role(
    shards: ShardSet, actor: Account | None, target: Account, role: Role, reason: str = ""
) -> None:
    """Only admins (or the command line) grant roles."""
    if actor is not None and role_of(actor.role) is not Role.ADMIN:
        raise Forbidden(_("Only admins can grant roles."))
    await _update_account(shards, actor, target, f"grant_{role.value}", reason, role=role.value)


async def mark_spam(
    shards: ShardSet, actor: Account | None, target: Account, spam: bool, reason: str = ""
) -> None:
    """A spammer's posts leave the public, tag and search timelines and the directory; they
    stay on the spammer's own profile (as in the original Twoorl)."""
    check_outranks(actor, target)
    action = "mark_spam" if spam else "unmark_spam"
    await _update_account(shards, actor, target, action, reason, hides_posts=True, spam=spam)


async def suspend(shards: ShardSet, actor: Account | None, target: Account, reason: str) -> None:
    """No signing in, no posting: every session and app token of the account ends now."""
    check_outranks(actor, target)
    await _update_account(
        shards, actor, target, "suspend", reason, hides_posts=True, suspended_at=utcnow()
    )
    await sessions.end_all_sessions(shards, target.id)
    await oauth.revoke_all(shards, target.id)


async def unsuspend(
    shards: ShardSet, actor: Account | None, target: Account, reason: str = ""
) -> None:
    check_outranks(actor, target)
    await _update_account(
        shards, actor, target, "unsuspend", reason, hides_posts=True, suspended_at=None
    )


async def log_page(
    shards: ShardSet, *, max_id: int | None = None, limit: int = LOG_PAGE
) -> tuple[list[AuditEntry], int | None]:
    """Newest first; returns the entries and the cursor for older ones."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit + 1)
    if max_id is not None:
        query = query.where(audit_log.c.id < max_id)
    async with shards.directory.read() as conn:
        rows = (await conn.execute(query)).all()
    entries = [
        AuditEntry(
            r.id,
            r.actor_id,
            r.action,
            r.target_account_id,
            r.target_post_id,
            r.reason,
            r.created_at,
        )
        for r in rows[:limit]
    ]
    return entries, (entries[-1].id if len(rows) > limit else None)


async def find_accounts(shards: ShardSet, query: str, *, limit: int = 50) -> list[Account]:
    """For the moderators' search: a username or display-name prefix, or the newest people."""
    from twoorl.accounts.service import search_by_name

    if query.strip():
        return await search_by_name(shards, query, limit=limit)
    async with shards.directory.read() as conn:
        rows = (
            await conn.execute(select(accounts).order_by(accounts.c.id.desc()).limit(limit))
        ).all()
    return [Account.from_row(row) for row in rows]


async def record_post_removal(
    shards: ShardSet, actor: Account, author: Account, post_id: int, reason: str
) -> None:
    async with shards.directory.write() as conn:
        await record(
            conn,
            actor_id=actor.id,
            action="delete_post",
            target_account_id=author.id,
            target_post_id=post_id,
            reason=reason,
        )
