"""The directory of people (``/users``): newest first, or most followed first, by cursor.

Newest: ``accounts`` is on the directory database, so it is one query down the primary key,
``id < cursor``. Most followed: follower counts live in ``account_counters`` on each
account's home shard, so every shard answers for its own people in (followers, id) order
(``ix_account_counters_followers``, a row-value cursor) and the answers are merged, as
timelines are. People nobody follows may have no counters row at all; they follow the
followed ones, newest first, read from the directory and checked against their counters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select, tuple_

from twoorl.accounts import service as accounts
from twoorl.accounts.models import Account
from twoorl.accounts.tables import account_counters
from twoorl.accounts.tables import accounts as accounts_table
from twoorl.ids import MAX_ID, is_valid
from twoorl.search.filters import hidden_account_ids
from twoorl.storage.shards import ShardSet
from twoorl.timelines.merge import merge_newest

PER_PAGE = 30
ORDERS = ("new", "popular")
# Rounds of "people nobody follows" read per page before giving up on filling it (each round
# is one directory query and one counters query per shard).
MAX_ROUNDS = 3
_POPULAR_CURSOR = re.compile(r"(\d{1,10})\.(\d{1,19})")


@dataclass(frozen=True)
class Entry:
    account: Account
    followers: int


@dataclass(frozen=True)
class DirectoryPage:
    entries: list[Entry]
    next_cursor: str | None


def parse_cursor(order: str, raw: str | None) -> tuple[int, int] | None:
    """``new``: "<id>"; ``popular``: "<followers>.<id>". None for none or nonsense."""
    if not raw:
        return None
    if order == "new":
        if raw.isascii() and raw.isdigit() and len(raw) <= 19 and is_valid(int(raw)):
            return (0, int(raw))
        return None
    match = _POPULAR_CURSOR.fullmatch(raw)
    if match is None or not is_valid(int(match.group(2))):
        return None
    return (int(match.group(1)), int(match.group(2)))


async def newest(
    shards: ShardSet, *, before: int | None, limit: int = PER_PAGE, viewer: Account | None = None
) -> DirectoryPage:
    hidden = await hidden_account_ids(shards, viewer)
    found = await _newest_accounts(shards, before or MAX_ID, limit + 1, hidden)
    more = len(found) > limit
    found = found[:limit]
    stats = await accounts.stats_for_many(shards, [a.id for a in found])
    entries = [Entry(a, stats[a.id][0].followers) for a in found]
    return DirectoryPage(entries, str(found[-1].id) if more and found else None)


async def _newest_accounts(
    shards: ShardSet, before: int, limit: int, hidden: frozenset[int]
) -> list[Account]:
    statement = (
        select(accounts_table)
        .where(accounts_table.c.id < before)
        .order_by(accounts_table.c.id.desc())
        .limit(limit)
    )
    if hidden:
        statement = statement.where(accounts_table.c.id.notin_(sorted(hidden)))
    async with shards.directory.read() as conn:
        return [Account.from_row(row) for row in await conn.execute(statement)]


async def most_followed(
    shards: ShardSet,
    *,
    after: tuple[int, int] | None,
    limit: int = PER_PAGE,
    viewer: Account | None = None,
) -> DirectoryPage:
    """People by follower count, then newest; ``after`` is the last (followers, id) shown."""
    hidden = await hidden_account_ids(shards, viewer)
    wanted = limit + 1
    ranked: list[tuple[int, int]] = []  # (followers, account id), descending
    if after is None or after[0] > 0:
        ranked = await _followed(shards, after, wanted, hidden)
    if len(ranked) < wanted:
        # Then the people with no followers, newest first.
        before = after[1] if after is not None and after[0] == 0 else MAX_ID
        ranked += await _unfollowed(shards, before, wanted - len(ranked), hidden)
    more = len(ranked) > limit
    ranked = ranked[:limit]
    people = await accounts.get_many(shards, [account_id for _n, account_id in ranked])
    entries = [Entry(people[i], n) for n, i in ranked if i in people]
    last = ranked[-1] if ranked else None
    return DirectoryPage(entries, f"{last[0]}.{last[1]}" if more and last else None)


async def _followed(
    shards: ShardSet, after: tuple[int, int] | None, limit: int, hidden: frozenset[int]
) -> list[tuple[int, int]]:
    key = tuple_(account_counters.c.followers, account_counters.c.account_id)

    async def fetch(shard, conn) -> list[tuple[int, int]]:
        statement = (
            select(account_counters.c.followers, account_counters.c.account_id)
            .where(account_counters.c.followers > 0)
            .order_by(account_counters.c.followers.desc(), account_counters.c.account_id.desc())
            .limit(limit)
        )
        if after is not None:
            statement = statement.where(key < tuple_(*after))
        if hidden:
            statement = statement.where(account_counters.c.account_id.notin_(sorted(hidden)))
        return [(row.followers, row.account_id) for row in await conn.execute(statement)]

    return merge_newest(await shards.gather(fetch), limit, key=lambda pair: pair)  # type: ignore[arg-type,return-value]


async def _unfollowed(
    shards: ShardSet, before: int, limit: int, hidden: frozenset[int]
) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for _round in range(MAX_ROUNDS):
        batch = await _newest_accounts(shards, before, limit * 2, hidden)
        if not batch:
            break
        stats = await accounts.stats_for_many(shards, [a.id for a in batch])
        found += [(0, a.id) for a in batch if stats[a.id][0].followers == 0]
        if len(found) >= limit or len(batch) < limit * 2:
            break
        before = batch[-1].id
    return found[:limit]
