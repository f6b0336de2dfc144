"""A bulk load, laid out per physical shard before anything is written.

Rows are plain tuples in each table's ``COLUMNS`` order (what COPY wants); datetimes are
naive UTC, the form ``UTCDateTime`` stores.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Table

from twoorl.accounts.tables import accounts
from twoorl.graph.tables import followers, following
from twoorl.ids import logical_shard_of
from twoorl.notifications.service import Kind
from twoorl.notifications.tables import notifications
from twoorl.posts.tables import post_tags, posts
from twoorl.storage.shards import Shard, ShardSet

# The columns each bulk-written table is filled with, in tuple order. All NOT NULL columns
# are given, as the services give them, so nothing depends on server defaults.
COLUMNS: dict[Table, tuple[str, ...]] = {
    accounts: (
        "id",
        "username",
        "username_key",
        "email",
        "email_key",
        "password_hash",
        "display_name",
        "bio",
        "locale",
        "use_gravatar",
        "profile_color",
        "created_at",
    ),
    posts: ("id", "author_id", "text"),
    post_tags: ("tag", "post_id"),
    following: ("follower_id", "followee_id", "created_at"),
    followers: ("followee_id", "follower_id", "created_at"),
    notifications: ("id", "account_id", "kind", "actor_id", "post_id", "read"),
}
# Insertion order within a shard: the directory first, then content.
TABLE_ORDER = [accounts, posts, post_tags, following, followers, notifications]

POSTS, FOLLOWING, FOLLOWERS = 0, 1, 2  # indexes into a counter delta
_FOLLOW = str(Kind.FOLLOW)


@dataclass
class ShardPlan:
    rows: dict[Table, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    # account id -> [posts, following, followers] to add (the row is created if missing).
    counter_deltas: dict[int, list[int]] = field(default_factory=dict)
    # Authors whose newest post id (author_heads) must be brought up to date.
    head_authors: set[int] = field(default_factory=set)

    def add_counts(self, account_id: int, column: int, delta: int) -> None:
        self.counter_deltas.setdefault(account_id, [0, 0, 0])[column] += delta

    @property
    def row_count(self) -> int:
        # Counters and heads are one row per account touched.
        return (
            sum(len(r) for r in self.rows.values())
            + len(self.counter_deltas)
            + len(self.head_authors)
        )


class LoadPlan:
    """One ``ShardPlan`` per physical shard that gets anything."""

    def __init__(self, shards: ShardSet) -> None:
        self.shards = shards
        self.by_shard: dict[Shard, ShardPlan] = defaultdict(ShardPlan)

    def for_id(self, owner_id: int) -> ShardPlan:
        return self.by_shard[self.shards.for_id(owner_id)]

    @property
    def row_count(self) -> int:
        return sum(p.row_count for p in self.by_shard.values())

    def add_follows(
        self,
        pairs: Sequence[tuple[int, int]],
        created_at: Sequence[datetime],
        notification_ids: Sequence[int] | None,
    ) -> None:
        """Both edges of each follow, the counters on each side and (optionally) the
        "followed you" notification, each on the shard the app would write it to."""
        plan_of = self._plans_of({account for pair in pairs for account in pair})
        # The row lists themselves, looked up once per account: this loop runs per follow.
        out_rows = {a: p.rows[following] for a, p in plan_of.items()}
        in_rows = {a: p.rows[followers] for a, p in plan_of.items()}
        note_rows = {a: p.rows[notifications] for a, p in plan_of.items()}
        # Each side in its primary key's order: PostgreSQL appends to the btree's right edge
        # instead of splitting pages all over it (COPY runs 2-3x faster).
        for index in _ordered(pairs, by_second=False):
            follower, followee = pairs[index]
            out_rows[follower].append((follower, followee, created_at[index]))
        for index in _ordered(pairs, by_second=True):
            follower, followee = pairs[index]
            in_rows[followee].append((followee, follower, created_at[index]))
            if notification_ids is not None:
                note_rows[followee].append(
                    (notification_ids[index], followee, _FOLLOW, follower, 0, False)
                )
        for account_id, count in Counter(follower for follower, _ in pairs).items():
            plan_of[account_id].add_counts(account_id, FOLLOWING, count)
        for account_id, count in Counter(followee for _, followee in pairs).items():
            plan_of[account_id].add_counts(account_id, FOLLOWERS, count)

    def _plans_of(self, owner_ids: Iterable[int]) -> dict[int, ShardPlan]:
        return {owner_id: self.for_id(owner_id) for owner_id in owner_ids}

    def add_posts(self, items: Iterable[tuple[int, int, str, Sequence[str]]]) -> None:
        """(post id, author id, text, normalised tags): the post, its tags, the author's post
        count and head, all on the author's shard."""
        plans: dict[int, ShardPlan] = {}
        # In (author_id, id) order, which two of the three post indexes follow (see above).
        for post_id, author_id, text, tags in sorted(items, key=lambda i: (i[1] << 64) | i[0]):
            assert logical_shard_of(post_id) == logical_shard_of(author_id)
            plan = plans.get(author_id) or plans.setdefault(author_id, self.for_id(author_id))
            plan.rows[posts].append((post_id, author_id, text))
            if tags:
                plan.rows[post_tags].extend((tag, post_id) for tag in tags)
            plan.add_counts(author_id, POSTS, 1)
            plan.head_authors.add(author_id)


def _ordered(pairs: Sequence[tuple[int, int]], *, by_second: bool) -> list[int]:
    """Indexes of ``pairs`` sorted by (first, second), or (second, first). One integer key
    per pair (ids are 63-bit) sorts far faster than tuples."""
    keys = [(b << 64) | a for a, b in pairs] if by_second else [(a << 64) | b for a, b in pairs]
    return sorted(range(len(keys)), key=keys.__getitem__)
