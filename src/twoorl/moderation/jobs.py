"""Jobs that carry a moderation decision to the shards: an account's posts leave (or return
to) the shared timelines when it is marked as spam or suspended (or cleared)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from twoorl.accounts.service import get_by_id
from twoorl.caching.changes import record_change
from twoorl.jobs.registry import JobContext, handles
from twoorl.posts.tables import posts


@handles("moderation.hide_posts")
async def hide_posts(ctx: JobContext, payload: dict[str, Any]) -> None:
    # Reads the flag now rather than trusting the payload: of two quick changes, whichever
    # job runs last still writes the current state (idempotent, order-proof).
    account = await get_by_id(ctx.shards, payload["account_id"])
    if account is None:
        return
    hidden = account.spam or account.suspended
    async with ctx.shards.for_id(account.id).write() as conn:
        await conn.execute(
            update(posts)
            .where(posts.c.author_id == account.id, posts.c.hidden.is_not(hidden))
            .values(hidden=hidden)
        )
        record_change(conn, "public", "")
