"""A home window depends on its reader's authors: a post by one of them drops it, found
through the reverse index, and a post landing while a window loads keeps that load from
storing what it read before the post, without stopping other readers' loads. The public
window takes new posts in where they belong and stays a prefix of the timeline."""

from __future__ import annotations

from twoorl.caching.entities import Caches, DependentCache
from twoorl.posts.models import Post
from twoorl.timelines.paging import PageRequest
from twoorl.timelines.windows import Window


def post(post_id: int) -> Post:
    return Post(
        post_id,
        author_id=1,
        text=f"post {post_id}",
        in_reply_to_id=None,
        in_reply_to_account_id=None,
    )


def ids(window: Window) -> list[int]:
    return [p.id for p in window.posts]


def test_a_new_post_is_noted_on_the_public_window_and_stops_loads_under_way() -> None:
    caches = Caches()
    caches.public.put("", Window((post(5), post(3)), complete=False))
    caches.tags.put("news", Window((post(3),), complete=True))
    loading = caches.public.drops
    caches.apply([("public_post", "9")])
    assert caches.public.get("").arrived == (9,)
    assert caches.tags.get("news") is None  # the new post may carry the tag
    caches.public.put_many({"": Window((), complete=True)}, loading)  # read before the post
    assert caches.public.get("").arrived == (9,)


def test_arrivals_take_their_places_and_the_window_stays_a_prefix() -> None:
    window = Window((post(8), post(5), post(3)), complete=False, arrived=(9, 6, 1, 5))
    taken = window.taking_in([post(9), post(6), post(1), post(5)], size=4)
    # 1 is older than all the window holds: posts between it and 3 may exist unread.
    assert ids(taken) == [9, 8, 6, 5] and taken.arrived == () and not taken.complete
    assert taken.page(PageRequest(limit=2)).posts == [post(9), post(8)]
    whole = Window((post(8), post(3)), complete=True).taking_in([post(1)], size=4)
    assert ids(whole) == [8, 3, 1] and whole.complete
    full = Window((post(8), post(3)), complete=True).taking_in([post(9), post(1)], size=3)
    assert ids(full) == [9, 8, 3] and not full.complete


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


def test_an_authors_post_repost_or_delete_drops_their_own_window_only() -> None:
    caches = Caches()
    for author in (1, 2):
        caches.author_windows.put(author, Window((post(author),), complete=True))
    caches.apply([("author_posts", "1")])
    assert caches.author_windows.get(1) is None
    assert caches.author_windows.get(2) is not None
