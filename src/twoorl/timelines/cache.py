"""Cached home timelines in Redis, written by fan-out on write (Twitter's and Mastodon's design).

Per reader, a sorted set of ``"<post id, 19 digits>:<author id>"`` members, all with score 0,
so Redis orders them by the id text, which is the id order (a 63-bit id does not fit a
double score exactly). The author in the member lets an unfollow remove an author's entries.

Beside it, a hash holds the *floor*: the set is known to hold every entry above it. A new
timeline is complete only above the last post of the page that seeded it, and trimming to
the cap raises the floor to the newest id trimmed. Pages that reach below the floor are read
by fan-in. While a timeline is being rebuilt its floor is ``BUILDING``: readers treat it as
missing, but fan-out already writes into it, so no post published during the rebuild is lost.

Both keys expire after ``active_days`` without a read; fan-out writes only into timelines that
exist, so people who stay away cost nothing, and fan-in rebuilds theirs when they return.

Posts read through a cached page are kept too (``post:<id>``), so a page's posts come back in
one round trip instead of one query per shard; a delete removes the copy.

The scripts touch many keys at once: one Redis, not Redis Cluster.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass

from redis.asyncio import Redis

from twoorl.posts.models import Post

ID_DIGITS = 19
BUILDING = "building"
# Posts never change (no edits), so a copy in Redis is good until the post is deleted,
# when the delete's job removes it; the expiry only bounds memory.
POST_CACHE_SECONDS = 3 * 86_400
PUSH_BATCH = 2000  # followers per script call: big enough to amortise, small enough not to stall

# Shared by the scripts: trim a timeline to the cap, remembering the newest id trimmed (the
# timeline is complete only above it). Kept apart from the floor so that trimming while
# the timeline is still building cannot end the building state.
_TRIM = """
local function trim(timeline, meta, cap)
    local excess = redis.call('ZCARD', timeline) - cap
    if excess > 0 then
        local newest_trimmed = string.sub(
            redis.call('ZRANGE', timeline, excess - 1, excess - 1)[1], 1, ID_DIGITS)
        redis.call('ZREMRANGEBYRANK', timeline, 0, excess - 1)
        local trimmed = redis.call('HGET', meta, 'trimmed')
        if trimmed == false or trimmed < newest_trimmed then
            redis.call('HSET', meta, 'trimmed', newest_trimmed)
        end
    end
end
""".replace("ID_DIGITS", str(ID_DIGITS))

# ARGV: member, cap, timeline key prefix, meta key prefix, reader ids joined by commas. Only
# timelines that exist receive the entry. The keys are built here rather than passed as KEYS:
# 2,000 readers are one short argument instead of 4,000, which redis-py would encode one by
# one (half the time of a delivery). This needs one Redis, not Redis Cluster.
_PUSH = (
    _TRIM
    + """
local cap = tonumber(ARGV[2])
local pushed = 0
for reader in string.gmatch(ARGV[5], '%d+') do
    local timeline, meta = ARGV[3] .. reader, ARGV[4] .. reader
    if redis.call('EXISTS', meta) == 1 then
        redis.call('ZADD', timeline, 0, ARGV[1])
        trim(timeline, meta, cap)
        pushed = pushed + 1
    end
end
return pushed
"""
)

# KEYS: timeline, meta. ARGV: build token, floor, cap, ttl seconds, members...
_SEED = (
    _TRIM
    + """
if redis.call('HGET', KEYS[2], 'build') ~= ARGV[1] then
    return 0  -- invalidated, expired or rebuilt by a newer read meanwhile: theirs counts
end
for i = 5, #ARGV do
    redis.call('ZADD', KEYS[1], 0, ARGV[i])
end
redis.call('HSET', KEYS[2], 'floor', ARGV[2])
trim(KEYS[1], KEYS[2], tonumber(ARGV[3]))
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""
)

# KEYS: timeline. ARGV: ":<author id>". Removes every entry of that author.
_REMOVE_AUTHOR = """
local removed = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if string.sub(member, -#ARGV[1]) == ARGV[1] then
        removed = removed + redis.call('ZREM', KEYS[1], member)
    end
end
return removed
"""


def member(post_id: int, author_id: int) -> str:
    return f"{post_id:0{ID_DIGITS}d}:{author_id}"


def parse_member(raw: bytes | str) -> tuple[int, int]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    post_id, author_id = text.split(":")
    return int(post_id), int(author_id)


@dataclass(frozen=True)
class CachedSlice:
    """Entries of one reader's cached timeline within a page's bounds, newest first."""

    entries: list[tuple[int, int]]  # (post id, author id)
    floor: int  # the cache holds every entry with an id above this
    big_authors: frozenset[int]  # authors whose posts are merged in at read time
    truncated: bool  # more entries lie below the last one returned


class HomeTimelines:
    """Fan-out home timelines for one deployment (every key starts with ``prefix``)."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "twoorl:",
        cap: int = 800,
        active_seconds: int = 7 * 86_400,
        max_followers: int = 10_000,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.cap = cap
        self.active_seconds = active_seconds
        self.max_followers = max_followers
        self._push = redis.register_script(_PUSH)
        self._seed = redis.register_script(_SEED)
        self._remove_author = redis.register_script(_REMOVE_AUTHOR)

    @classmethod
    def from_url(cls, url: str, **options: object) -> HomeTimelines:
        return cls(Redis.from_url(url), **options)  # type: ignore[arg-type]

    async def close(self) -> None:
        await self.redis.aclose()

    def _timeline(self, account_id: int) -> str:
        return f"{self.prefix}home:{account_id}"

    def _meta(self, account_id: int) -> str:
        return f"{self.prefix}home-meta:{account_id}"

    @property
    def _big(self) -> str:
        return f"{self.prefix}big-authors"

    def _post(self, post_id: int) -> str:
        return f"{self.prefix}post:{post_id}"

    # Posts --------------------------------------------------------------------------------

    async def cached_posts(self, post_ids: Sequence[int]) -> dict[int, Post]:
        """The posts among ``post_ids`` that Redis holds: a page's posts in one round trip
        instead of one query per shard they live on."""
        if not post_ids:
            return {}
        found = await self.redis.mget([self._post(i) for i in post_ids])
        return {
            post.id: post for post in (Post(*json.loads(raw)) for raw in found if raw is not None)
        }

    async def keep_posts(self, posts: Iterable[Post]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for post in posts:
                pipe.set(self._post(post.id), json.dumps(astuple(post)), ex=POST_CACHE_SECONDS)
            await pipe.execute()

    async def forget_post(self, post_id: int) -> None:
        await self.redis.delete(self._post(post_id))

    async def forget_changed_posts(self, changes: Sequence[tuple[str, str]]) -> None:
        """Drop the copies of posts a commit deleted, before any process hears of it (a
        ShardSet commit hook): a process that misses its own cache and reads Redis after
        the change must not find the old copy and keep it."""
        gone = [self._post(int(key)) for kind, key in changes if kind == "post"]
        if gone:
            await self.redis.delete(*gone)

    # Reading ---------------------------------------------------------------------------

    async def read(
        self, account_id: int, *, max_id: int | None, since_id: int | None, count: int
    ) -> CachedSlice | None:
        """Up to ``count`` entries with since_id < id < max_id, or None when the reader has
        no usable timeline (never built, expired, or being rebuilt). Refreshes its expiry."""
        upper = f"({max_id:0{ID_DIGITS}d}" if max_id is not None else "+"
        # ';' sorts after ':', so this bound excludes since_id's own entry.
        lower = f"({since_id:0{ID_DIGITS}d};" if since_id else "-"
        timeline, meta = self._timeline(account_id), self._meta(account_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(meta, "floor", "trimmed")
            pipe.execute_command(
                "ZRANGE", timeline, upper, lower, "BYLEX", "REV", "LIMIT", 0, count
            )
            pipe.smembers(self._big)
            pipe.expire(timeline, self.active_seconds)
            pipe.expire(meta, self.active_seconds)
            (floor, trimmed), raw_entries, big, *_ = await pipe.execute()
        if floor is None or floor.decode() == BUILDING:
            return None
        return CachedSlice(
            entries=[parse_member(m) for m in raw_entries],
            floor=max(int(floor), int(trimmed or 0)),
            big_authors=frozenset(int(a) for a in big),
            truncated=len(raw_entries) >= count,
        )

    # Rebuilding ------------------------------------------------------------------------

    async def begin_rebuild(self, account_id: int) -> str:
        """Mark the timeline as building before fan-in reads the databases, so fan-out
        writes every post that commits from now on into it. Returns the token that
        :meth:`seed` needs: only the latest rebuild may seed."""
        meta, token = self._meta(account_id), secrets.token_hex(8)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(meta, "floor", BUILDING)
            pipe.hset(meta, "build", token)
            pipe.expire(meta, self.active_seconds)
            await pipe.execute()
        return token

    async def seed(
        self, account_id: int, token: str, entries: Iterable[tuple[int, int]], floor: int
    ) -> bool:
        """Add what fan-in found and declare the timeline complete above ``floor``."""
        members = [member(post_id, author_id) for post_id, author_id in entries]
        done = await self._seed(
            keys=[self._timeline(account_id), self._meta(account_id)],
            args=[token, f"{floor:0{ID_DIGITS}d}", self.cap, self.active_seconds, *members],
        )
        return bool(done)

    async def invalidate(self, account_id: int) -> None:
        """Forget a timeline (say, after a new follow); the next read rebuilds it."""
        await self.redis.delete(self._timeline(account_id), self._meta(account_id))

    # Fan-out ---------------------------------------------------------------------------

    async def push(self, reader_ids: Sequence[int], post_id: int, author_id: int) -> int:
        """Add a post to the timelines of those readers that have one; returns how many.
        Every batch goes in one pipeline: one round trip, and Redis runs the batches back to
        back (each short enough not to stall other clients between them)."""
        entry = member(post_id, author_id)
        timeline, meta = f"{self.prefix}home:", f"{self.prefix}home-meta:"
        async with self.redis.pipeline(transaction=False) as pipe:
            for start in range(0, len(reader_ids), PUSH_BATCH):
                readers = ",".join(map(str, reader_ids[start : start + PUSH_BATCH]))
                await self._push(args=[entry, self.cap, timeline, meta, readers], client=pipe)
            return sum(await pipe.execute())

    async def retract(self, reader_ids: Sequence[int], post_id: int, author_id: int) -> None:
        """Remove a deleted post from those readers' timelines."""
        entry = member(post_id, author_id)
        for start in range(0, len(reader_ids), PUSH_BATCH):
            async with self.redis.pipeline(transaction=False) as pipe:
                for reader_id in reader_ids[start : start + PUSH_BATCH]:
                    pipe.zrem(self._timeline(reader_id), entry)
                await pipe.execute()

    async def remove_entries(self, account_id: int, entries: Iterable[tuple[int, int]]) -> None:
        members = [member(post_id, author_id) for post_id, author_id in entries]
        if members:
            await self.redis.zrem(self._timeline(account_id), *members)

    async def remove_author(self, account_id: int, author_id: int) -> int:
        """Drop every entry of ``author_id`` from one reader's timeline (an unfollow)."""
        return await self._remove_author(keys=[self._timeline(account_id)], args=[f":{author_id}"])

    async def is_big(self, author_id: int) -> bool:
        return bool(await self.redis.sismember(self._big, author_id))

    async def mark_big(self, author_id: int) -> None:
        """From now on this author's posts are merged in at read time. Sticky: turning back
        would need their skipped posts in every follower's timeline."""
        await self.redis.sadd(self._big, author_id)
