"""Trending hashtags on the public page: the last 24 hours only (by snowflake id), counted on
every shard and added up, top ten, cached for a minute."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import insert
from web_support import account_id, send

from twoorl.ids import compose, logical_shard_of
from twoorl.posts.tables import post_tags, posts
from twoorl.search import trending
from twoorl.storage.shards import ShardSet

THREE_SHARDS = pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
HOUR_MS = 60 * 60 * 1000
SIDEBAR_RE = re.compile(r'<aside class="sidebar trending".*?</aside>', re.S)
TAG_LINK_RE = re.compile(
    r'<li><a href="/tags/([^"]+)">#[^<]+</a> <span class="count"><strong>(\d+)'
)


@pytest.fixture(autouse=True)
def _fresh_cache(shards):
    trending.forget(shards)
    yield
    trending.forget(shards)


async def say(person, text: str) -> None:
    response = await send(person, "/posts", {"status": text})
    assert response.status_code == 303, response.text


async def old_post(
    shards: ShardSet, author: int, text: str, tags: list[str], hours_ago: float, seq: int
) -> None:
    """A post written ``hours_ago``: its id carries that time (ids are snowflakes)."""
    moment = time.time_ns() // 1_000_000 - int(hours_ago * HOUR_MS)
    post_id = compose(moment, logical_shard_of(author), seq)
    async with shards.for_id(author).write() as conn:
        await conn.execute(insert(posts).values(id=post_id, author_id=author, text=text))
        await conn.execute(insert(post_tags), [{"tag": t, "post_id": post_id} for t in tags])


async def spread(people, shards: ShardSet, prefix: str):
    made, homes = [], {}
    while len(made) < 3 or len(set(homes.values())) < len(shards):
        assert len(made) < 40
        name = f"{prefix}{len(made)}"
        made.append(await people(name))
        homes[name] = shards.for_id(await account_id(shards, name)).index
    return made, homes


def sidebar(page: str) -> list[tuple[str, int]]:
    match = SIDEBAR_RE.search(page)
    assert match, "no trending sidebar"
    return [(tag, int(n)) for tag, n in TAG_LINK_RE.findall(match.group(0))]


@THREE_SHARDS
async def test_the_last_24_hours_counted_across_shards(people, shards) -> None:
    writers, homes = await spread(people, shards, "tagger")
    assert len(set(homes.values())) == 3
    # #alpha from everyone (so from every shard), #beta twice, #gamma once.
    for writer in writers:
        await say(writer, "Morning! #alpha")
    await say(writers[0], "#beta and #Gamma")
    await say(writers[1], "more #BETA")
    # Old posts: a day and an hour ago, and a week ago. They do not count.
    author = await account_id(shards, writers[0].username)
    for seq in range(5):
        await old_post(shards, author, "#old news", ["old"], 25, seq)
        await old_post(shards, author, "#alpha yesterday", ["alpha"], 24 * 7, seq)
    # Just inside the window: counts.
    await old_post(shards, author, "#gamma at dawn", ["gamma"], 23.5, 9)

    found = await trending.count_trending(shards)
    assert [(t.tag, t.posts) for t in found] == [("alpha", len(writers)), ("beta", 2), ("gamma", 2)]

    # From a day later, the same rows are all outside the window.
    later = time.time_ns() // 1_000_000 + 25 * HOUR_MS
    assert await trending.count_trending(shards, now_ms=later) == []
    # Seen from a day earlier, the posts of 25 hours ago are in its window (and the newer ones,
    # its future); the week-old ones are still out.
    earlier = time.time_ns() // 1_000_000 - 24 * HOUR_MS
    expected = sorted(
        [("old", 5), ("alpha", len(writers)), ("beta", 2), ("gamma", 2)],
        key=lambda item: (-item[1], item[0]),
    )
    found = await trending.count_trending(shards, now_ms=earlier)
    assert [(t.tag, t.posts) for t in found] == expected

    # The public page (and the signed-out home page) show them, linked to their tag pages.
    visitor = await people()
    for path in ("/public", "/"):
        page = (await visitor.get(path)).text
        assert sidebar(page) == [("alpha", len(writers)), ("beta", 2), ("gamma", 2)], path
    # The signed-in home page has no sidebar.
    assert not SIDEBAR_RE.search((await writers[0].get("/")).text)


@pytest.mark.parametrize("shard_urls", ["sqlite3"], indirect=True)
async def test_top_ten_most_first_then_by_name(people, shards) -> None:
    ana = await people("ana")
    tags = [f"tag{letter}" for letter in "lkjihgfedcba"]  # 12 tags
    await say(ana, " ".join("#" + t for t in tags))
    await say(ana, "#tagk again")
    await say(ana, "#tagl again")
    await say(ana, "#tagl and again")
    found = [(t.tag, t.posts) for t in await trending.count_trending(shards)]
    assert found[:2] == [("tagl", 3), ("tagk", 2)]
    assert [t for t, _n in found[2:]] == [
        "taga",
        "tagb",
        "tagc",
        "tagd",
        "tage",
        "tagf",
        "tagg",
        "tagh",
    ]
    assert len(found) == 10


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_the_public_page_caches_the_count(people, shards) -> None:
    ana = await people("ana")
    visitor = await people()
    # Nothing trending: the sidebar says so.
    page = (await visitor.get("/public")).text
    assert sidebar(page) == [] and "No hashtags in the last 24 hours." in page
    trending.forget(shards)
    await say(ana, "#first")
    assert sidebar((await visitor.get("/public")).text) == [("first", 1)]
    await say(ana, "#second")
    # Within the minute the page shows what it counted; the post itself is on the timeline.
    page = (await visitor.get("/public")).text
    assert sidebar(page) == [("first", 1)] and "#second" in page
    trending.forget(shards)
    assert sidebar((await visitor.get("/public")).text) == [("first", 1), ("second", 1)]
