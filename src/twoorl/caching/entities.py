"""This process's caches of entities the read model loads on every page.

Each is an LRU with a time-to-live as a backstop; what keeps them right is the change feed
(``caching.changes``): every write that changes a cached thing records it, and each change
drops the entry in every process. Posts are immutable but for deletion, so they live long;
everything else lives a minute at most, so even a lost change heals by itself.

A load races with a concurrent change: a request that read a row just before another one
changed it must not store the old row after the change dropped it. Each cache counts its
drops, and a load stores its result only if no drop happened while it ran.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from cachetools import TTLCache

from twoorl.caching.changes import Change

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MUTABLE_SECONDS = 60.0
IMMUTABLE_SECONDS = 3600.0

_bypassed: ContextVar[bool] = ContextVar("twoorl_caches_bypassed", default=False)


@contextmanager
def reading_the_databases() -> Iterator[None]:
    """Within this block (a job), every lookup misses, so reads see the databases' truth;
    what they load is still stored for pages (guarded like any load)."""
    token = _bypassed.set(True)
    try:
        yield
    finally:
        _bypassed.reset(token)


class EntityCache(Generic[K, V]):
    def __init__(self, maxsize: int, ttl: float) -> None:
        self._entries: TTLCache[K, V] = TTLCache(maxsize, ttl)
        self.drops = 0  # bumped by every drop: a load that saw it change stores nothing
        self.enabled = True
        # Loads under way (and the version they began at), for callers that share one read
        # among concurrent misses of a key.
        self.loading: dict[K, Any] = {}

    def version(self, key: K) -> object:
        """Changes whenever a drop could concern ``key``."""
        return self.drops

    def get(self, key: K) -> V | None:
        return self._entries.get(key) if self.enabled and not _bypassed.get() else None

    def get_many(self, keys: Iterable[K]) -> tuple[dict[K, V], list[K]]:
        """The cached entries among ``keys``, and the keys that are not cached."""
        found: dict[K, V] = {}
        missing: list[K] = []
        if not self.enabled or _bypassed.get():
            return found, list(keys)
        entries = self._entries
        # One clock reading for the whole batch (the timer is re-entrant), and one lookup per
        # key: ``get`` would test membership and then read, each under the timer.
        with entries.timer:
            for key in keys:
                try:
                    found[key] = entries[key]
                except KeyError:
                    missing.append(key)
        return found, missing

    def put_many(self, items: dict[K, V], drops_before: int) -> None:
        """Store what a load found, unless something was dropped while it ran."""
        if self.enabled and self.drops == drops_before:
            self._entries.update(items)

    def put(self, key: K, value: V) -> None:
        """Store what a change says (not a load, so no race to guard against)."""
        self._entries[key] = value

    def drop(self, key: K) -> None:
        self._entries.pop(key, None)
        self.drops += 1

    def amend(self, key: K, change: Callable[[V], V]) -> None:
        """Replace the entry, if there is one, with what a change makes of it. Like a drop it
        stops loads under way from storing: they may have read before the change."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries[key] = change(entry)
        self.drops += 1

    def drop_where(self, matches: Callable[[V], bool]) -> None:
        for key in [k for k, v in list(self._entries.items()) if matches(v)]:
            self._entries.pop(key, None)
        self.drops += 1

    def clear(self) -> None:
        self._entries.clear()
        self.drops += 1

    def __len__(self) -> int:
        return len(self._entries)


class DependentCache(EntityCache[K, V]):
    """Entries that each depend on many ids (a home timeline's window on its authors): a
    change to one id drops every entry depending on it, found through a reverse index, not a
    scan. A load registers its dependencies before it reads (:meth:`track`), so a change that
    lands while it runs stops it from storing, without stopping every other load."""

    # Index entries (dependencies of live and evicted entries) before the whole cache starts
    # over: it bounds the memory that evicted entries leave in the index.
    MAX_INDEXED = 1_000_000

    def __init__(self, maxsize: int, ttl: float) -> None:
        super().__init__(maxsize, ttl)
        self._dependents: dict[Hashable, set[K]] = {}
        self._generations: dict[K, int] = {}
        self._indexed = 0

    def track(self, key: K, depends_on: Iterable[Hashable]) -> tuple[int, int]:
        """Before a load of ``key``: what :meth:`put_tracked` checks afterwards."""
        if self._indexed > self.MAX_INDEXED:
            self.clear()
        for dependency in depends_on:
            self._dependents.setdefault(dependency, set()).add(key)
            self._indexed += 1
        return self.version(key)

    def version(self, key: K) -> tuple[int, int]:
        return self.drops, self._generations.get(key, 0)

    def put_tracked(self, key: K, value: V, tracked: tuple[int, int]) -> None:
        if self.enabled and tracked == self.version(key):
            self._entries[key] = value

    def drop_dependents(self, dependency: Hashable) -> None:
        keys = self._dependents.pop(dependency, ())
        self._indexed -= len(keys)
        for key in keys:
            self._entries.pop(key, None)
            self._generations[key] = self._generations.get(key, 0) + 1
            self._indexed += 1  # the generation is held until the next start-over

    def clear(self) -> None:
        super().clear()
        self._dependents.clear()
        self._generations.clear()
        self._indexed = 0


class Caches:
    """Every cache of one process (one per ShardSet), and how each kind of change reaches
    them. Kinds are named after what changed; keys are ids (or token hashes) as text."""

    def __init__(self, size: int = 50_000) -> None:
        self.posts: EntityCache[int, Any] = EntityCache(size, IMMUTABLE_SECONDS)
        self.accounts: EntityCache[int, Any] = EntityCache(size // 2, MUTABLE_SECONDS)
        # Lower-cased username -> id, or None for a name nobody has (mentions of nobody).
        self.usernames: EntityCache[str, int | None] = EntityCache(size // 2, MUTABLE_SECONDS)
        self.account_stats: EntityCache[int, Any] = EntityCache(size // 2, MUTABLE_SECONDS)
        self.post_counts: EntityCache[int, tuple[int, int, int]] = EntityCache(
            size, MUTABLE_SECONDS
        )
        # Account id -> whom they muted and blocked, and who blocked them.
        self.hidden: EntityCache[int, Any] = EntityCache(size // 5, MUTABLE_SECONDS)
        # Token hash -> (account id, ...) for sessions and OAuth tokens.
        self.sessions: EntityCache[str, Any] = EntityCache(size // 5, MUTABLE_SECONDS)
        self.grants: EntityCache[str, Any] = EntityCache(size // 5, MUTABLE_SECONDS)
        # Post id -> its direct replies' ids (a thread page).
        self.replies: EntityCache[int, tuple[int, ...]] = EntityCache(size // 5, MUTABLE_SECONDS)
        # "" -> the newest entries of the public timeline, which new posts are added to;
        # "<tag>,<tag>" -> of tags', which any new post drops (``timelines.windows``).
        self.public: EntityCache[str, Any] = EntityCache(1, MUTABLE_SECONDS)
        self.tags: EntityCache[str, Any] = EntityCache(size // 50, MUTABLE_SECONDS)
        # Reader id -> the newest entries of their fan-in home timeline, dropped when one of
        # its authors posts or deletes, or when the reader follows someone else.
        self.home_windows: DependentCache[int, Any] = DependentCache(size // 25, MUTABLE_SECONDS)
        self.followees: EntityCache[int, Any] = EntityCache(size // 5, MUTABLE_SECONDS)
        # Author id -> the newest entries of their own posts (a profile), dropped when they
        # post, repost or delete.
        self.author_windows: EntityCache[int, Any] = EntityCache(size // 50, MUTABLE_SECONDS)
        # (viewer id, post id) -> (liked, reposted).
        self.viewer_reactions: EntityCache[tuple[int, int], tuple[bool, bool]] = EntityCache(
            size, MUTABLE_SECONDS
        )
        # Viewer id -> what they liked and reposted among recent posts (``reactions``).
        self.recent_reactions: EntityCache[int, Any] = EntityCache(size // 5, MUTABLE_SECONDS)
        # Account id -> their unread notifications (the page header's count).
        self.unread: EntityCache[int, int] = EntityCache(size // 5, MUTABLE_SECONDS)
        # (account id, post id) of reactions whose tally a job has yet to bring along.
        self.reacting: EntityCache[tuple[int, int], bool] = EntityCache(size // 5, MUTABLE_SECONDS)

    def all(self) -> list[EntityCache[Any, Any]]:
        return [value for value in vars(self).values() if isinstance(value, EntityCache)]

    def apply(self, changes: Iterable[Change]) -> None:
        for kind, key in changes:
            handler = _HANDLERS.get(kind)
            if handler is None:
                continue  # a newer process's kind: nothing of ours depends on it
            handler(self, key)

    def clear(self) -> None:
        for cache in self.all():
            cache.clear()

    def set_enabled(self, enabled: bool) -> None:
        """Off while the feed cannot be read (a Redis outage): every read goes to the
        databases, and nothing is stored that a missed change could leave wrong."""
        if not enabled:
            self.clear()
        for cache in self.all():
            cache.enabled = enabled


def _reaction_key(key: str) -> tuple[int, int]:
    account_id, post_id = key.split(":")
    return int(account_id), int(post_id)


def _reacting(caches: Caches, key: str) -> None:
    account_id, post_id = _reaction_key(key)
    caches.reacting.put((account_id, post_id), True)
    caches.viewer_reactions.drop((account_id, post_id))
    caches.recent_reactions.drop(account_id)


def _drop_post(caches: Caches, key: str) -> None:
    caches.posts.drop(int(key))
    _drop_shared_windows(caches, key)  # it may have been in the public or a tag window


def _drop_shared_windows(caches: Caches, key: str) -> None:
    caches.public.clear()
    caches.tags.clear()


def _public_post(caches: Caches, key: str) -> None:
    caches.public.amend("", lambda window: window.with_arrived(int(key)))
    caches.tags.clear()  # it may carry tags


def _drop_post_counters(caches: Caches, key: str) -> None:
    # A reply linked or unlinked changes the parent's count in the same transaction.
    caches.post_counts.drop(int(key))
    caches.replies.drop(int(key))


def _drop_followees(caches: Caches, key: str) -> None:
    caches.followees.drop(int(key))
    caches.home_windows.drop(int(key))


def _author_posts(caches: Caches, key: str) -> None:
    caches.author_windows.drop(int(key))
    caches.home_windows.drop_dependents(int(key))


def _drop_hidden(caches: Caches, key: str) -> None:
    caches.hidden.drop(int(key))
    caches.unread.drop(int(key))  # notifications from people muted or blocked do not count


def _drop_credentials_of(caches: Caches, key: str) -> None:
    account_id = int(key)
    caches.sessions.drop_where(lambda entry: entry[0] == account_id)
    caches.grants.drop_where(lambda entry: entry[0] == account_id)


_HANDLERS: dict[str, Callable[[Caches, str], None]] = {
    "all": lambda caches, key: caches.clear(),  # a bulk load
    "post": _drop_post,
    "public": _drop_shared_windows,
    "public_post": _public_post,
    "account": lambda caches, key: caches.accounts.drop(int(key)),
    "username": lambda caches, key: caches.usernames.drop(key),
    "account_counters": lambda caches, key: caches.account_stats.drop(int(key)),
    "post_counters": _drop_post_counters,
    "hidden": _drop_hidden,
    "notifications": lambda caches, key: caches.unread.drop(int(key)),
    "followees": _drop_followees,
    "author_posts": _author_posts,
    "reacting": _reacting,
    "reacted": lambda caches, key: caches.reacting.drop(_reaction_key(key)),
    "session": lambda caches, key: caches.sessions.drop(key),
    "grant": lambda caches, key: caches.grants.drop(key),
    "credentials_of": _drop_credentials_of,
}
