"""Who search, the directory and trending leave out: the hook moderation plugs into.

:func:`hidden_account_ids` returns the spammers and suspended people (for everyone) and the
people the viewer blocked or who blocked them (for a signed-in viewer), and every search,
directory and trending query leaves those authors out (``NOT IN``, in SQL, so pages stay
full). Keep the set small (it is sent to every shard): a large
moderation list belongs in a table that these queries join instead.
"""

from __future__ import annotations

from sqlalchemy import select

from twoorl.accounts.models import Account
from twoorl.accounts.tables import MODERATED, accounts
from twoorl.graph.blocks import blocks_either_way_ids
from twoorl.storage.shards import ShardSet


async def hidden_account_ids(shards: ShardSet, viewer: Account | None) -> frozenset[int]:
    """Accounts whose people and posts ``viewer`` (None: signed out) must not find:
    spammers and suspended people, for everyone (one query on a partial index of the
    directory: only moderated accounts are in it), and whom the viewer blocked or who
    blocked them."""
    async with shards.directory.read() as conn:
        hidden = set((await conn.execute(select(accounts.c.id).where(MODERATED))).scalars())
    # And, for a signed-in searcher, blocks either way (one query on their shard).
    hidden |= await blocks_either_way_ids(shards, viewer)
    return frozenset(hidden)
