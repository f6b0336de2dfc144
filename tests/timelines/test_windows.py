"""A home window depends on its reader's authors: a post by one of them drops it, found
through the reverse index, and a post landing while a window loads keeps that load from
storing what it read before the post, without stopping other readers' loads."""

from __future__ import annotations

from twoorl.caching.entities import DependentCache


def test_a_change_drops_exactly_the_windows_that_depend_on_it() -> None:
    cache: DependentCache[int, str] = DependentCache(100, 60)
    for reader, authors in ((1, [10, 11]), (2, [11, 12]), (3, [13])):
        cache.put_tracked(reader, f"window {reader}", cache.track(reader, authors))
    cache.drop_dependents(11)
    assert [cache.get(reader) for reader in (1, 2, 3)] == [None, None, "window 3"]


def test_a_change_during_a_load_stops_only_that_load_from_storing() -> None:
    cache: DependentCache[int, str] = DependentCache(100, 60)
    first = cache.track(1, [10])
    second = cache.track(2, [20])
    cache.drop_dependents(10)  # author 10 posts while both loads read the shards
    cache.put_tracked(1, "read before the post", first)
    cache.put_tracked(2, "unaffected", second)
    assert cache.get(1) is None and cache.get(2) == "unaffected"
    cache.put_tracked(1, "read after the post", cache.track(1, [10]))
    assert cache.get(1) == "read after the post"


def test_the_index_starts_over_before_it_outgrows_its_bound() -> None:
    cache: DependentCache[int, str] = DependentCache(100, 60)
    cache.MAX_INDEXED = 10
    for reader in range(5):
        cache.put_tracked(reader, "w", cache.track(reader, range(reader * 4, reader * 4 + 4)))
    assert cache._indexed <= 10 + 4
    cache.drop_dependents(0)  # reader 0's entry went with the start-over, nothing breaks
    assert cache.get(4) == "w"
