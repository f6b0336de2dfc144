"""Login sessions: a random token in the cookie, only its SHA-256 in the database, so a
session can be listed and revoked but a stolen table cannot be replayed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update

from twoorl.accounts.models import Account
from twoorl.accounts.service import get_many
from twoorl.accounts.tables import accounts, sessions
from twoorl.caching.changes import record_change
from twoorl.storage.shards import ShardSet
from twoorl.storage.types import utcnow

SESSION_LIFETIME = timedelta(days=30)
# Refreshing last_seen_at on every request would make every page view a write.
TOUCH_INTERVAL = timedelta(minutes=10)


@dataclass(frozen=True)
class SessionInfo:
    token_hash: str
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    ip: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(
    shards: ShardSet, account: Account, *, user_agent: str = "", ip: str = ""
) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with shards.directory.write() as conn:
        await conn.execute(
            insert(sessions).values(
                token_hash=hash_token(token),
                account_id=account.id,
                created_at=now,
                last_seen_at=now,
                user_agent=user_agent[:200],
                ip=ip[:45],
            )
        )
    return token


async def account_for_token(shards: ShardSet, token: str) -> tuple[Account, str] | None:
    """The signed-in account and the session's hash, or None for an unknown/expired token.
    Cached in this process; signing out, a password change or a suspension drops it in
    every process (``caching.changes``)."""
    token_hash = hash_token(token)
    cache = shards.caches.sessions
    cached = cache.get(token_hash)
    if cached is not None:
        account_id, last_seen_at = cached
        account = (await get_many(shards, [account_id])).get(account_id)
    else:
        drops_before = cache.drops
        # The session and its account in one round trip: both live in the directory.
        async with shards.directory.read() as conn:
            row = (
                await conn.execute(
                    select(accounts, sessions.c.last_seen_at)
                    .join(sessions, sessions.c.account_id == accounts.c.id)
                    .where(sessions.c.token_hash == token_hash)
                )
            ).first()
        if row is None:
            return None
        account, last_seen_at = Account.from_row(row), row.last_seen_at
        cache.put_many({token_hash: (account.id, last_seen_at)}, drops_before)
    if account is None or account.suspended:
        return None
    now = utcnow()
    if now - last_seen_at > SESSION_LIFETIME:
        await end_session(shards, token_hash)
        return None
    if now - last_seen_at > TOUCH_INTERVAL:
        async with shards.directory.write() as conn:
            await conn.execute(
                update(sessions).where(sessions.c.token_hash == token_hash).values(last_seen_at=now)
            )
        cache.put(token_hash, (account.id, now))
    return account, token_hash


async def end_session(shards: ShardSet, token_hash: str, *, account_id: int | None = None) -> bool:
    """Revoke one session (only the owner's, when ``account_id`` is given)."""
    statement = delete(sessions).where(sessions.c.token_hash == token_hash)
    if account_id is not None:
        statement = statement.where(sessions.c.account_id == account_id)
    async with shards.directory.write() as conn:
        record_change(conn, "session", token_hash)
        return (await conn.execute(statement)).rowcount > 0


async def list_sessions(shards: ShardSet, account_id: int) -> list[SessionInfo]:
    async with shards.directory.read() as conn:
        rows = (
            await conn.execute(
                select(sessions)
                .where(sessions.c.account_id == account_id)
                .order_by(sessions.c.last_seen_at.desc())
            )
        ).all()
    return [
        SessionInfo(r.token_hash, r.created_at, r.last_seen_at, r.user_agent, r.ip) for r in rows
    ]


async def end_all_sessions(shards: ShardSet, account_id: int) -> None:
    async with shards.directory.write() as conn:
        await conn.execute(delete(sessions).where(sessions.c.account_id == account_id))
        record_change(conn, "credentials_of", account_id)


async def end_other_sessions(shards: ShardSet, account_id: int, keep_token_hash: str) -> None:
    async with shards.directory.write() as conn:
        await conn.execute(
            delete(sessions).where(
                sessions.c.account_id == account_id, sessions.c.token_hash != keep_token_hash
            )
        )
        record_change(conn, "credentials_of", account_id)
