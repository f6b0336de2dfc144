"""The timelines API against Mastodon's paging contract: ``max_id``, ``since_id``, ``min_id``,
``limit`` and the ``Link`` header, over one database, three SQLite or PostgreSQL shards, and
the Redis fan-out cache."""

from __future__ import annotations

import asyncio
import bisect
import os
import random
import secrets
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api_support import ApiUser, MakeUser, anonymous
from conftest import forget_redis_prefix
from twoorl.accounts import service as accounts
from twoorl.ids import EPOCH_MS, LOGICAL_SHARDS, MAX_ID, compose
from twoorl.posts.models import Post
from twoorl.runtime import actions
from twoorl.storage.shards import ShardSet
from twoorl.timelines.paging import (
    MAX_WINDOW_PROBES,
    Page,
    PageFetcher,
    PageRequest,
    page_of,
    page_until_full,
)

on_three_shards = pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)


async def authors_on_every_shard(api_users: MakeUser, shards: ShardSet, count: int = 3):
    """At least ``count`` people, living on every physical shard there is (ids pick the
    shard at random, so keep registering until each shard has someone)."""
    made: list[ApiUser] = []
    homes: set[int] = set()
    while len(made) < count or len(homes) < len(shards.shards):
        assert len(made) < 40, "ids never landed on every shard"
        user = await api_users(f"writer{len(made)}")
        made.append(user)
        homes.add(shards.shards.index(shards.for_id(int(user.id))))
    return made


async def post_round_robin(writers: list[ApiUser], count: int, tag: str = "") -> list[str]:
    """``count`` posts taking turns among ``writers``; their ids, newest first."""
    ids = []
    for i in range(count):
        status = await writers[i % len(writers)].status(f"post {i} {tag}".strip())
        ids.append(status["id"])
    return ids[::-1]


async def walk(user, path: str, limit: int) -> tuple[list[str], int]:
    """Follows ``rel="next"`` from the first page to the end: every id seen, and the pages."""
    seen: list[str] = []
    url: str | None = f"{path}?limit={limit}"
    pages = 0
    while url:
        response = await user.get(url)
        assert response.status_code == 200, response.text
        page = [status["id"] for status in response.json()]
        assert len(page) <= limit
        if page:
            assert 'rel="next"' not in response.headers.get("link", "") or len(page) == limit
        seen += page
        url = response.links.get("next", {}).get("url")
        pages += 1
        assert pages <= 50, "the next links never end"
    return seen, pages


def link_order(response) -> list[str]:
    return [part.split("rel=")[1].strip('"') for part in response.headers["link"].split(", ")]


# Each timeline, once


async def test_home_shows_me_and_whom_i_follow_with_reblogs(api_users) -> None:
    ana, bob, cy = await api_users("ana"), await api_users("bob"), await api_users("cy")
    await bob.post(f"/api/v1/accounts/{ana.id}/follow")
    by_ana = await ana.status("from ana")
    await cy.status("from cy, not followed")
    mine = await bob.status("from bob")
    by_cy = await cy.status("cy again")
    reblog = (await ana.post(f"/api/v1/statuses/{by_cy['id']}/reblog")).json()
    home = await bob.get("/api/v1/timelines/home")
    assert home.status_code == 200, home.text
    assert [s["id"] for s in home.json()] == [reblog["id"], mine["id"], by_ana["id"]]
    assert home.json()[0]["reblog"]["id"] == by_cy["id"]
    async with anonymous(ana.app) as client:
        assert (await client.get("/api/v1/timelines/home")).status_code == 401


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_timeline_statuses_match_single_statuses_and_follow_every_change(api_users) -> None:
    """Timelines serve each status's JSON from a cache keyed by what it is made of: warm or
    cold it is what the status endpoint answers, and a like, a repost, a new name or a new
    counter shows on the very next page."""
    ana, bob = await api_users("ana"), await api_users("bob")
    await bob.post(f"/api/v1/accounts/{ana.id}/follow")
    by_ana = await ana.status("hello @bob")

    async def home_and_singles() -> tuple[list[dict], list[dict]]:
        home = (await bob.get("/api/v1/timelines/home")).json()
        singles = [(await bob.get(f"/api/v1/statuses/{s['id']}")).json() for s in home]
        return home, singles

    cold, singles = await home_and_singles()
    warm, _ = await home_and_singles()
    assert cold == warm == singles
    assert cold[0]["favourited"] is False and cold[0]["mentions"][0]["username"] == "bob"
    await bob.post(f"/api/v1/statuses/{by_ana['id']}/favourite")
    await bob.post(f"/api/v1/statuses/{by_ana['id']}/reblog")
    await ana.patch("/api/v1/accounts/update_credentials", data={"display_name": "Ana B."})
    await ana.status("a second one")
    home, singles = await home_and_singles()
    assert home == singles
    # The newest post, then bob's repost (which stands in for the original in his home).
    newest, reblog = home
    liked = reblog["reblog"]
    assert reblog["account"]["username"] == "bob" and liked["id"] == by_ana["id"]
    assert newest["content"] == "<p>a second one</p>"
    assert liked["favourited"] is True and liked["favourites_count"] == 1
    assert liked["reblogged"] is True and liked["reblogs_count"] == 1
    assert liked["account"]["display_name"] == "Ana B."
    assert liked["account"]["statuses_count"] == 2


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_public_takes_its_options(api_users, app) -> None:
    ana = await api_users("ana")
    first = await ana.status("one")
    second = await ana.status("two")
    expected = [second["id"], first["id"]]
    async with anonymous(app) as client:
        for query in ("", "?local=true", "?local=false", "?remote=false", "?only_media=false"):
            response = await client.get(f"/api/v1/timelines/public{query}")
            assert response.status_code == 200, response.text
            assert [s["id"] for s in response.json()] == expected, query
        for query in ("?remote=true", "?only_media=true", "?only_media=1&local=true"):
            response = await client.get(f"/api/v1/timelines/public{query}")
            assert response.status_code == 200 and response.json() == [], query
            assert "link" not in response.headers


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_public_leaves_reblogs_out(api_users) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    made = await ana.status("original")
    await bob.post(f"/api/v1/statuses/{made['id']}/reblog")
    public = await bob.get("/api/v1/timelines/public")
    assert [s["id"] for s in public.json()] == [made["id"]]


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_tag_timeline_matches_the_tag_in_any_case(api_users) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    tagged = await ana.status("I like #Tea")
    await ana.status("I like tea without the tag")
    also = await bob.status("#tea time")
    for name in ("tea", "Tea", "TEA", "%23tea"):
        response = await bob.get(f"/api/v1/timelines/tag/{name}")
        assert response.status_code == 200, response.text
        assert [s["id"] for s in response.json()] == [also["id"], tagged["id"]], name
    assert (await bob.get("/api/v1/timelines/tag/coffee")).json() == []


@on_three_shards
async def test_tag_timeline_with_any_all_and_none(api_users) -> None:
    ana, bob, cy = await api_users("ana"), await api_users("bob"), await api_users("cy")
    made = {}
    for name, writer, text in [
        ("a", ana, "#tea and #cake"),
        ("b", bob, "just #tea"),
        ("c", cy, "#coffee please"),
        ("d", ana, "#coffee with #Cake"),
        ("e", bob, "#tea or #coffee?"),
    ]:
        made[(await writer.status(text))["id"]] = name

    async def names(query: str) -> str:
        response = await cy.get(f"/api/v1/timelines/tag/tea?{query}")
        assert response.status_code == 200, response.text
        return "".join(made[s["id"]] for s in response.json())

    assert await names("") == "eba"
    assert await names("any[]=coffee") == "edcba"  # e once, though it has both
    assert await names("any[]=%23Coffee&any[]=nothing") == "edcba"
    assert await names("all[]=cake") == "a"
    assert await names("none[]=cake") == "eb"
    assert await names("any[]=coffee&none[]=cake") == "ecb"
    assert await names("any[]=coffee&all[]=cake") == "da"
    assert await names("all[]=cake&all[]=coffee") == ""
    # Paged two at a time by the Link header: every post once, newest first.
    url, seen = "/api/v1/timelines/tag/tea?any[]=coffee&limit=2", []
    while url:
        response = await cy.get(url)
        seen += [made[s["id"]] for s in response.json()]
        url = response.links.get("next", {}).get("url")
    assert "".join(seen) == "edcba"


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_a_tag_in_any_script_pages_with_a_usable_link(api_users) -> None:
    ana = await api_users("ana")
    first = await ana.status("#café au lait")
    second = await ana.status("encore un #Café")
    response = await ana.get("/api/v1/timelines/tag/café?limit=1")
    assert response.status_code == 200, response.text
    assert [s["id"] for s in response.json()] == [second["id"]]
    # The Link header is ASCII (percent-encoded) and leads to the next page.
    next_url = response.links["next"]["url"]
    assert next_url.isascii() and "caf%C3%A9" in next_url
    older = await ana.get(next_url)
    assert [s["id"] for s in older.json()] == [first["id"]]
    # Beyond Latin-1 too (a header that cannot be encoded would fail the whole answer).
    tagged = await ana.status("#日本語 です")
    await ana.status("#日本語 もう一つ")
    cjk = await ana.get("/api/v1/timelines/tag/日本語?limit=1")
    assert cjk.status_code == 200, cjk.text
    assert [s["id"] for s in (await ana.get(cjk.links["next"]["url"])).json()] == [tagged["id"]]


# Cursors and limits


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_limit_defaults_to_20_and_clamps_at_40(api_users) -> None:
    ana = await api_users("ana")
    ids = await post_round_robin([ana], 45)
    for query, expected in (
        ("", 20),
        ("?limit=5", 5),
        ("?limit=40", 40),
        ("?limit=41", 40),
        ("?limit=1000", 40),
        ("?limit=abc", 20),
    ):
        response = await ana.get(f"/api/v1/timelines/public{query}")
        assert response.status_code == 200, response.text
        assert [s["id"] for s in response.json()] == ids[:expected], query


async def test_max_id_since_id_and_min_id(api_users) -> None:
    ana = await api_users("ana")
    ids = await post_round_robin([ana], 10)  # newest first: ids[9] is the oldest

    async def page(query: str) -> list[str]:
        response = await ana.get(f"/api/v1/timelines/public?{query}")
        assert response.status_code == 200, response.text
        return [status["id"] for status in response.json()]

    assert await page(f"max_id={ids[2]}&limit=3") == ids[3:6]
    # since_id: the newest items above it; min_id: the oldest items just above it.
    assert await page(f"since_id={ids[7]}&limit=3") == ids[0:3]
    assert await page(f"min_id={ids[7]}&limit=3") == ids[4:7]
    assert await page(f"min_id={ids[7]}") == ids[0:7]
    assert await page(f"max_id={ids[1]}&since_id={ids[5]}") == ids[2:5]
    assert await page(f"max_id={ids[1]}&min_id={ids[8]}&limit=2") == ids[6:8]
    assert await page(f"min_id={ids[0]}") == []
    assert await page(f"max_id={ids[9]}") == []
    for bad in ("max_id=abc", "since_id=-1", "min_id=1.5"):
        response = await ana.get(f"/api/v1/timelines/public?{bad}")
        assert response.status_code == 422, response.text
        assert response.json()["error"]


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_link_header_names_next_first_then_prev(api_users) -> None:
    ana = await api_users("ana")
    ids = await post_round_robin([ana], 5)
    first = await ana.get("/api/v1/timelines/public?limit=2&local=true")
    assert link_order(first) == ["next", "prev"]
    next_url = first.links["next"]["url"]
    prev_url = first.links["prev"]["url"]
    assert next_url.startswith("http://testserver/api/v1/timelines/public?")
    assert f"max_id={ids[1]}" in next_url and "limit=2" in next_url and "local=true" in next_url
    assert f"min_id={ids[0]}" in prev_url and "max_id" not in prev_url
    # Nothing newer yet; a newer post then appears through the prev link.
    assert (await ana.get(prev_url)).json() == []
    newer = await ana.status("newer")
    assert [s["id"] for s in (await ana.get(prev_url)).json()] == [newer["id"]]
    # The last page has no next link, and an empty page no Link at all.
    last = await ana.get(f"/api/v1/timelines/public?limit=10&max_id={ids[2]}")
    assert [s["id"] for s in last.json()] == ids[3:]
    assert "next" not in last.links and "prev" in last.links
    empty = await ana.get(f"/api/v1/timelines/public?max_id={ids[4]}")
    assert empty.json() == [] and "link" not in empty.headers


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
async def test_min_id_finds_the_oldest_items_above_it_even_far_below_the_top(
    app, api_users
) -> None:
    # More posts above the cursor than paging down from the top in a few reads would reach
    # (written through the service, not HTTP, to keep the test quick).
    ana = await api_users("ana")
    ids = await post_round_robin([ana], 3)
    svc = app.state.services
    author = await accounts.get_by_id(svc.shards, int(ana.id))
    for i in range(450):
        post = await actions.create_post(svc, author, f"bulk {i}")
        ids.insert(0, str(post.id))
    response = await ana.get(f"/api/v1/timelines/public?min_id={ids[-1]}&limit=4")
    assert [s["id"] for s in response.json()] == ids[-5:-1]
    below = await ana.get(f"/api/v1/timelines/public?min_id={ids[-1]}&limit=2&max_id={ids[-3]}")
    assert [s["id"] for s in below.json()] == [ids[-2]]


# Paging over three shards until the end


@on_three_shards
@pytest.mark.parametrize("timeline", ["public", "tag/paged", "home"])
async def test_following_next_links_sees_every_post_once_in_order(
    api_users, shards, timeline: str
) -> None:
    writers = await authors_on_every_shard(api_users, shards)
    reader = writers[0]
    for writer in writers[1:]:
        assert (await reader.post(f"/api/v1/accounts/{writer.id}/follow")).status_code == 200
    expected = await post_round_robin(writers, 23, tag="#paged")
    seen, pages = await walk(reader, f"/api/v1/timelines/{timeline}", limit=5)
    assert seen == expected
    assert pages == 5
    # Walking back up from the oldest post with min_id (prev links) sees them all again.
    up: list[str] = []
    url: str | None = f"/api/v1/timelines/{timeline}?limit=4&min_id={expected[-1]}"
    while url:
        response = await reader.get(url)
        page = [status["id"] for status in response.json()]
        if not page:
            break
        up = page + up
        url = response.links["prev"]["url"]
    assert up == expected[:-1]


# The home timeline from the Redis fan-out cache


class TestHomeWithFanOutCache:
    @pytest.fixture
    def redis_prefix(self, redis_url: str) -> Iterator[str]:
        prefix = f"twoorl-test:{os.getpid()}:api:{secrets.token_hex(4)}:"
        yield prefix
        forget_redis_prefix(redis_url, prefix)

    @pytest.fixture
    def settings_overrides(self, redis_url: str, redis_prefix: str) -> dict[str, object]:
        return {"redis_url": redis_url, "redis_prefix": redis_prefix}

    @on_three_shards
    async def test_paging_home_sees_every_post_once(self, app, api_users, shards) -> None:
        assert app.state.services.timelines is not None
        writers = await authors_on_every_shard(api_users, shards)
        reader = writers[0]
        # A first read builds the reader's cached timeline; later posts are fanned out to it.
        assert (await reader.get("/api/v1/timelines/home")).json() == []
        for writer in writers[1:]:
            assert (await reader.post(f"/api/v1/accounts/{writer.id}/follow")).status_code == 200
        expected = await post_round_robin(writers, 23)
        seen, pages = await walk(reader, "/api/v1/timelines/home", limit=5)
        assert seen == expected and pages == 5
        cache = app.state.services.timelines
        assert await cache.redis.keys(f"{cache.prefix}home:*"), "home was read from the cache"
        since = await reader.get(f"/api/v1/timelines/home?since_id={expected[5]}&limit=3")
        assert [s["id"] for s in since.json()] == expected[:3]
        oldest = await reader.get(f"/api/v1/timelines/home?min_id={expected[5]}&limit=3")
        assert [s["id"] for s in oldest.json()] == expected[2:5]
        # A deleted post leaves the cached timeline at once.
        newest_author = writers[(len(expected) - 1) % len(writers)]
        gone = await newest_author.delete(f"/api/v1/statuses/{expected[0]}")
        assert gone.status_code == 200
        first = await reader.get("/api/v1/timelines/home?limit=3")
        assert [s["id"] for s in first.json()] == expected[1:4]


# The min_id search itself, over every shape of timeline


def _in_memory_timeline(ids: list[int], reads: list[PageRequest]) -> PageFetcher:
    """A timeline of posts with ``ids`` that reads newest first as every Twoorl timeline
    does (``page_of``, one extra row for "is there more"), recording each read."""
    ascending = sorted(ids)

    async def fetch(request: PageRequest) -> Page:
        reads.append(request)
        end = bisect.bisect_left(ascending, request.upper)
        start = max(bisect.bisect_right(ascending, request.lower), end - request.limit - 1)
        posts = [Post(i, 1, "", None, None) for i in reversed(ascending[start:end])]
        return page_of(posts, request)

    return fetch


# Bursts of posts with quiet stretches between them, at any scale of id.
_bursts = st.lists(
    st.tuples(st.integers(1, MAX_ID // 2), st.integers(1, 200), st.integers(1, 1 << 30)),
    min_size=1,
    max_size=4,
)


def _expected_page(ids: list[int], min_id: int, max_id: int | None, limit: int, keep):
    above = [i for i in ids if min_id < i < (max_id or MAX_ID) and keep(Post(i, 1, "", None, None))]
    return above[:limit][::-1]


@given(
    bursts=_bursts,
    cursor_at=st.floats(0, 1),
    limit=st.integers(1, 40),
    bounded_above=st.booleans(),
    filtered=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_min_id_pages_are_the_oldest_items_above_the_cursor(
    bursts, cursor_at: float, limit: int, bounded_above: bool, filtered: bool
) -> None:
    ids = sorted({start + n * step for start, count, step in bursts for n in range(count)})
    ids = [i for i in ids if i < MAX_ID]
    min_id = int(ids[-1] * cursor_at)
    max_id = ids[len(ids) // 2] if bounded_above else None
    keep = (lambda post: post.id % 3 != 0) if filtered else (lambda post: True)
    reads: list[PageRequest] = []
    cursor = PageRequest(max_id=max_id, min_id=min_id, limit=limit)
    page = asyncio.run(page_until_full(_in_memory_timeline(ids, reads), cursor, keep))
    assert [post.id for post in page.posts] == _expected_page(ids, min_id, max_id, limit, keep)
    assert len(reads) <= MAX_WINDOW_PROBES


@given(
    pace=st.sampled_from([(1, 1), (10, 1), (60, 30), (600, 30)]),  # seconds apart, days
    seed=st.integers(0, 1000),
    limit=st.sampled_from([20, 40]),
)
@settings(max_examples=30, deadline=None)
def test_min_id_takes_a_few_reads_on_real_timelines(
    pace: tuple[int, int], seed: int, limit: int
) -> None:
    # Snowflakes minted over days of posting, up to thousands above the cursor: the cost is
    # the log of the distance, not one read per 40 posts.
    seconds_between, days = pace
    rnd = random.Random(seed)
    now = EPOCH_MS + 400 * 86_400_000
    moment, ids = now - days * 86_400_000, []
    while moment < now:
        moment += int(rnd.expovariate(1 / seconds_between) * 1000) + 1
        ids.append(compose(moment, rnd.randrange(LOGICAL_SHARDS), rnd.randrange(4096)))
    ids = sorted(set(ids))
    min_id = ids[rnd.randrange(len(ids))]
    reads: list[PageRequest] = []
    cursor = PageRequest(min_id=min_id, limit=limit)
    page = asyncio.run(page_until_full(_in_memory_timeline(ids, reads), cursor))
    keep_all = lambda post: True  # noqa: E731
    assert [post.id for post in page.posts] == _expected_page(ids, min_id, None, limit, keep_all)
    assert len(reads) <= 8, len(reads)
