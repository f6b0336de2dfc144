"""Creating, listing, grouping and reading notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from twoorl.caching.changes import record_change
from twoorl.graph.blocks import blocks_on, hidden_by
from twoorl.ids import logical_shard_of, new_id
from twoorl.notifications.tables import notifications
from twoorl.storage.shards import ShardSet
from twoorl.storage.sql import insert_if_absent

PAGE_SIZE = 40
UNREAD_CAP = 100  # the header shows "99+" beyond this; counting further is wasted work


class Kind(StrEnum):
    MENTION = "mention"
    REPLY = "reply"
    FOLLOW = "follow"
    LIKE = "like"
    REPOST = "repost"


@dataclass(frozen=True)
class Notification:
    id: int
    kind: Kind
    actor_id: int
    post_id: int | None
    read: bool


@dataclass
class NotificationGroup:
    """Notifications shown as one line: "ana and 2 others liked your post"."""

    kind: Kind
    post_id: int | None
    newest_id: int
    actor_ids: list[int] = field(default_factory=list)
    unread: bool = False


async def notify(
    conn: AsyncConnection,
    *,
    recipient_id: int,
    kind: Kind,
    actor_id: int,
    post_id: int | None = None,
) -> bool:
    """Record a notification on ``conn`` (the recipient's shard). Idempotent; True if new."""
    if recipient_id == actor_id:
        return False  # nobody is told about their own doings
    if await blocks_on(conn, recipient_id, actor_id):
        return False  # nobody is told about what people they blocked do
    added = await insert_if_absent(
        conn,
        notifications,
        id=new_id(logical_shard_of(recipient_id)),
        account_id=recipient_id,
        kind=str(kind),
        actor_id=actor_id,
        post_id=post_id or 0,
        read=False,
    )
    if added:
        record_change(conn, "notifications", recipient_id)  # the unread count in the header
    return added


async def withdraw(
    conn: AsyncConnection,
    *,
    recipient_id: int,
    kind: Kind,
    actor_id: int,
    post_id: int | None = None,
) -> None:
    """Remove a notification whose cause was undone (an unlike, an unfollow)."""
    await conn.execute(
        delete(notifications).where(
            notifications.c.account_id == recipient_id,
            notifications.c.kind == str(kind),
            notifications.c.actor_id == actor_id,
            notifications.c.post_id == (post_id or 0),
        )
    )
    record_change(conn, "notifications", recipient_id)


async def withdraw_for_post(conn: AsyncConnection, recipient_ids: list[int], post_id: int) -> None:
    await conn.execute(
        delete(notifications).where(
            notifications.c.account_id.in_(recipient_ids), notifications.c.post_id == post_id
        )
    )
    for recipient_id in recipient_ids:
        record_change(conn, "notifications", recipient_id)


async def page(
    shards: ShardSet, account_id: int, *, max_id: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[Notification], int | None]:
    """Newest first; returns the page and the cursor for the next (older) one."""
    query = (
        select(notifications)
        .where(notifications.c.account_id == account_id, _not_hidden(account_id))
        .order_by(notifications.c.id.desc())
        .limit(limit + 1)
    )
    if max_id is not None:
        query = query.where(notifications.c.id < max_id)
    async with shards.for_id(account_id).read() as conn:
        rows = (await conn.execute(query)).all()
    found = [_from_row(r) for r in rows[:limit]]
    return found, (found[-1].id if len(rows) > limit else None)


def group(found: list[Notification]) -> list[NotificationGroup]:
    """Likes and reposts of one post, and follows, gather into one line each (per page);
    mentions and replies stay single, since each has its own words to read."""
    groups: list[NotificationGroup] = []
    by_key: dict[tuple[Kind, int | None], NotificationGroup] = {}
    for item in found:
        groupable = item.kind in (Kind.LIKE, Kind.REPOST, Kind.FOLLOW)
        key = (item.kind, item.post_id)
        target = by_key.get(key) if groupable else None
        if target is None:
            target = NotificationGroup(item.kind, item.post_id, item.id)
            groups.append(target)
            if groupable:
                by_key[key] = target
        if item.actor_id not in target.actor_ids:
            target.actor_ids.append(item.actor_id)
        target.unread = target.unread or not item.read
    return groups


async def unread_count(shards: ShardSet, account_id: int) -> int:
    """How many unread notifications the page header shows: cached until a notification of
    theirs is added, read or removed, or their mutes and blocks change."""
    cache = shards.caches.unread
    count = cache.get(account_id)
    if count is not None:
        return count
    drops_before = cache.drops
    count = await _count_unread(shards, account_id)
    cache.put_many({account_id: count}, drops_before)
    return count


async def _count_unread(shards: ShardSet, account_id: int) -> int:
    capped = (
        select(notifications.c.id)
        .where(
            notifications.c.account_id == account_id,
            notifications.c.read.is_(False),
            _not_hidden(account_id),
        )
        .limit(UNREAD_CAP)
        .subquery()
    )
    async with shards.for_id(account_id).read() as conn:
        return (await conn.execute(select(func.count()).select_from(capped))).scalar_one()


async def mark_read(shards: ShardSet, account_id: int, up_to_id: int) -> None:
    async with shards.for_id(account_id).write() as conn:
        await conn.execute(
            update(notifications)
            .where(
                and_(
                    notifications.c.account_id == account_id,
                    notifications.c.read.is_(False),
                    notifications.c.id <= up_to_id,
                )
            )
            .values(read=True)
        )
        record_change(conn, "notifications", account_id)


async def filtered_page(
    shards: ShardSet,
    account_id: int,
    *,
    kinds: list[Kind],
    actor_id: int | None = None,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[Notification], bool]:
    """Newest first, of the given kinds (and actor); ``min_id`` gives the oldest ones above
    it. Returns the page and whether older ones remain."""
    if not kinds:
        return [], False
    query = select(notifications).where(
        notifications.c.account_id == account_id,
        notifications.c.kind.in_([str(k) for k in kinds]),
        _not_hidden(account_id),
    )
    if actor_id is not None:
        query = query.where(notifications.c.actor_id == actor_id)
    if max_id is not None:
        query = query.where(notifications.c.id < max_id)
    if since_id is not None:
        query = query.where(notifications.c.id > since_id)
    ascending = min_id is not None and since_id is None
    if ascending:
        query = query.where(notifications.c.id > min_id).order_by(notifications.c.id.asc())
    else:
        query = query.order_by(notifications.c.id.desc())
    async with shards.for_id(account_id).read() as conn:
        rows = (await conn.execute(query.limit(limit + 1))).all()
    found = [_from_row(r) for r in rows[:limit]]
    if ascending:
        return found[::-1], True
    return found, len(rows) > limit


def _not_hidden(account_id: int):
    """Leaves out notifications from people ``account_id`` muted or blocked: in SQL on their
    own shard, so pages stay full and the unread count is right; unmuting brings them back."""
    return notifications.c.actor_id.not_in(hidden_by(account_id))


def _from_row(row) -> Notification:
    return Notification(row.id, Kind(row.kind), row.actor_id, row.post_id or None, bool(row.read))


async def get(shards: ShardSet, account_id: int, notification_id: int) -> Notification | None:
    async with shards.for_id(account_id).read() as conn:
        row = (
            await conn.execute(
                select(notifications).where(
                    notifications.c.account_id == account_id,
                    notifications.c.id == notification_id,
                )
            )
        ).first()
    return _from_row(row) if row else None


async def dismiss(shards: ShardSet, account_id: int, notification_id: int) -> None:
    async with shards.for_id(account_id).write() as conn:
        await conn.execute(
            delete(notifications).where(
                notifications.c.account_id == account_id, notifications.c.id == notification_id
            )
        )
        record_change(conn, "notifications", account_id)


async def clear(shards: ShardSet, account_id: int) -> None:
    async with shards.for_id(account_id).write() as conn:
        await conn.execute(delete(notifications).where(notifications.c.account_id == account_id))
        record_change(conn, "notifications", account_id)


async def dismiss_one(shards: ShardSet, account_id: int, notification_id: int) -> bool:
    """Like ``dismiss``, and says whether there was such a notification of this account's
    (the API answers 404 otherwise, as Mastodon does)."""
    async with shards.for_id(account_id).write() as conn:
        result = await conn.execute(
            delete(notifications).where(
                notifications.c.account_id == account_id, notifications.c.id == notification_id
            )
        )
        record_change(conn, "notifications", account_id)
    return bool(result.rowcount)
