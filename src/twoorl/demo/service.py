"""``populate``: demo people who registered, posted and followed "over the last days", written
in bulk; ``bulk_follow``: many follows at once (benchmarks build readers with exact followee
counts with it).

The result is what the app itself would have written: accounts in the directory, posts with
their tags and author heads on the author's shard, both edges of each follow, the followee's
"followed you" notification, and exact counters on each account's own shard. No jobs are
queued: everything a job would do is written here directly.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from twoorl.accounts.passwords import Passwords
from twoorl.accounts.tables import accounts
from twoorl.demo import load, snowflakes, words
from twoorl.demo.follows import follow_pairs
from twoorl.demo.plan import POSTS, LoadPlan
from twoorl.demo.progress import Tracker, tracker
from twoorl.demo.spec import DEMO_PASSWORD, DemoSpec, DemoSummary, UsernamesTaken
from twoorl.graph.tables import following
from twoorl.ids import LOGICAL_SHARDS, logical_shard_of, new_id
from twoorl.storage.shards import ShardSet

_UNIX_EPOCH = datetime(1970, 1, 1)  # naive UTC, as stored
_DAY_MS = 86_400_000
_LOOKUP_CHUNK = 500  # ids or names per IN (...) list


async def populate(
    shards: ShardSet,
    spec: DemoSpec,
    progress: bool = True,
    *,
    passwords: Passwords | None = None,
) -> DemoSummary:
    """Create ``spec.users`` demo accounts with their posts and follows.

    Raises ``UsernamesTaken`` (before writing anything) if any demo username or email
    exists. ``passwords`` picks the hashing profile (default: the production one)."""
    started = time.perf_counter()
    await _ensure_free(shards, spec)
    # One argon2 hash for everyone: hashing is deliberately slow, and the password is public.
    password_hash = await (passwords or Passwords()).hash(DEMO_PASSWORD)
    rng = random.Random(spec.seed)
    now_ms = time.time_ns() // 1_000_000
    window_ms = max(1, int(spec.days * _DAY_MS))
    start_ms = now_ms - window_ms
    plan = LoadPlan(shards)
    with tracker(progress) as track:
        track.step("Planning accounts and posts", total=spec.users)
        account_ids = _plan_accounts(plan, spec, rng, password_hash, start_ms, window_ms)
        posts, tags = _plan_posts(plan, spec, rng, account_ids, start_ms, window_ms, track)
        track.step("Planning follows", total=spec.users * spec.follows_per_user)
        follows = _plan_follows(plan, spec, rng, account_ids, start_ms, window_ms, track)
        rows = plan.row_count
        track.step("Writing rows", total=rows)
        await load.execute(plan, track.advance)
    return DemoSummary(
        account_ids=account_ids,
        posts=posts,
        tags=tags,
        follows=follows,
        notifications=follows if spec.notifications else 0,
        rows=rows,
        seconds=time.perf_counter() - started,
    )


async def bulk_follow(
    shards: ShardSet,
    pairs: Iterable[tuple[int, int]],
    *,
    notify: bool = True,
    progress: bool = False,
    invalidate_home: Callable[[int], Awaitable[object]] | None = None,
) -> int:
    """Make each ``(follower_id, followee_id)`` follow, as ``graph.service.follow`` and its
    job would: both edges, counter deltas, the notification. Pairs that already follow are
    skipped; returns how many follows were new. Meant for loading, not for live traffic: it
    does not lock against a concurrent follow or unfollow of the same pair.

    With a fan-out timeline cache, pass its ``invalidate`` as ``invalidate_home``: it is
    called once per follower after the commit, as the follow job does, so a cached home
    timeline is rebuilt with the new followees' posts."""
    wanted = list(dict.fromkeys(pairs))
    if any(follower == followee for follower, followee in wanted):
        raise ValueError("nobody can follow themselves")
    existing = await _existing_follows(shards, wanted)
    new = [pair for pair in wanted if pair not in existing]
    if not new:
        return 0
    now = _naive_utc(time.time_ns() // 1_000_000)
    # Minted now, on the followee's logical shard, as the follow job would.
    notification_ids = (
        [new_id(logical_shard_of(followee)) for _, followee in new] if notify else None
    )
    plan = LoadPlan(shards)
    plan.add_follows(new, [now] * len(new), notification_ids)
    with tracker(progress) as track:
        track.step("Writing follows", total=plan.row_count)
        await load.execute(plan, track.advance)
    if invalidate_home is not None:
        for follower in dict.fromkeys(follower for follower, _ in new):
            await invalidate_home(follower)
    return len(new)


def _plan_accounts(
    plan: LoadPlan,
    spec: DemoSpec,
    rng: random.Random,
    password_hash: str,
    start_ms: int,
    window_ms: int,
) -> list[int]:
    # Joined during the window before the one they post in; the id carries that moment and a
    # random logical shard, as new_owner_id() would have given at registration.
    joined_ms = [start_ms - rng.randrange(window_ms) for _ in range(spec.users)]
    logical = [rng.randrange(LOGICAL_SHARDS) for _ in range(spec.users)]
    account_ids = snowflakes.allocate(joined_ms, logical, rng)
    directory_rows = plan.by_shard[plan.shards.directory].rows[accounts]
    for number, (account_id, joined) in enumerate(zip(account_ids, joined_ms, strict=True), 1):
        username, email = spec.username(number), spec.email(number)
        # Exactly the values accounts.service.register writes.
        directory_rows.append(
            (
                account_id,
                username,
                username.lower(),
                email,
                email.lower(),
                password_hash,
                "",
                "",
                None,
                False,
                "#1d9bf0",
                _naive_utc(joined),
            )
        )
        # A counter row for everyone, so every demo account's counts are explicit.
        plan.for_id(account_id).add_counts(account_id, POSTS, 0)
    return account_ids


def _plan_posts(
    plan: LoadPlan,
    spec: DemoSpec,
    rng: random.Random,
    account_ids: list[int],
    start_ms: int,
    window_ms: int,
    track: Tracker,
) -> tuple[int, int]:
    authors: list[int] = []
    written_ms: list[int] = []
    texts: list[str] = []
    tags: list[tuple[str, ...]] = []
    for author_id in account_ids:
        for _ in range(spec.posts_per_user):
            authors.append(author_id)
            # Strictly before now: ids only ever move back from here (see snowflakes).
            written_ms.append(start_ms + int(rng.random() * window_ms))
            text, post_tags = words.post(rng, spec.max_post_length)
            texts.append(text)
            tags.append(post_tags)
        track.advance(1)
    post_ids = snowflakes.allocate(written_ms, [logical_shard_of(a) for a in authors], rng)
    plan.add_posts(zip(post_ids, authors, texts, tags, strict=True))
    return len(post_ids), sum(len(t) for t in tags)


def _plan_follows(
    plan: LoadPlan,
    spec: DemoSpec,
    rng: random.Random,
    account_ids: list[int],
    start_ms: int,
    window_ms: int,
    track: Tracker,
) -> int:
    followees: list[list[int]] = [[] for _ in account_ids]
    for follower, followee in follow_pairs(spec.users, spec.follows_per_user, rng):
        followees[follower].append(account_ids[followee])
    # Listed in (follower id, followee id) order, the out-edges' key order (see plan.py),
    # which the loader's sort then finds already done.
    pairs = [
        (account_ids[follower], followee)
        for follower in sorted(range(spec.users), key=account_ids.__getitem__)
        for followee in sorted(followees[follower])
    ]
    track.advance(len(pairs))
    track.step("Placing rows on their shards")
    followed_ms = [start_ms + int(rng.random() * window_ms) for _ in pairs]
    notification_ids = (
        snowflakes.allocate(followed_ms, [logical_shard_of(b) for _, b in pairs], rng)
        if spec.notifications
        else None
    )
    plan.add_follows(pairs, [_naive_utc(ms) for ms in followed_ms], notification_ids)
    return len(pairs)


def _naive_utc(timestamp_ms: int) -> datetime:
    return _UNIX_EPOCH + timedelta(0, 0, 0, timestamp_ms)  # positional args: faster


async def _ensure_free(shards: ShardSet, spec: DemoSpec) -> None:
    names = [spec.username(n).lower() for n in range(1, spec.users + 1)]
    emails = [spec.email(n).lower() for n in range(1, spec.users + 1)]
    taken: list[str] = []
    async with shards.directory.read() as conn:
        for start in range(0, len(names), _LOOKUP_CHUNK):
            query = select(accounts.c.username).where(
                or_(
                    accounts.c.username_key.in_(names[start : start + _LOOKUP_CHUNK]),
                    accounts.c.email_key.in_(emails[start : start + _LOOKUP_CHUNK]),
                )
            )
            taken.extend((await conn.execute(query)).scalars())
    if taken:
        raise UsernamesTaken(
            f"{len(taken)} of the accounts {spec.username(1)}..{spec.username(spec.users)} "
            f"already exist (for example @{taken[0]}); choose another --prefix"
        )


async def _existing_follows(shards: ShardSet, pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for shard, follower_ids in shards.group_by_shard({f for f, _ in pairs}).items():
        async with shard.read() as conn:
            for start in range(0, len(follower_ids), _LOOKUP_CHUNK):
                chunk = follower_ids[start : start + _LOOKUP_CHUNK]
                rows = await conn.execute(
                    select(following.c.follower_id, following.c.followee_id).where(
                        following.c.follower_id.in_(chunk)
                    )
                )
                found.update((r.follower_id, r.followee_id) for r in rows)
    return found
