"""``/search`` over HTTP on real databases: posts by full-text (PostgreSQL GIN, SQLite FTS5),
people and hashtags, merged across three shards, paged, with queries that must not break it."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from web_support import account_id, send

from conftest import post_ids
from twoorl.posts.tables import posts
from twoorl.search import service as search_service
from twoorl.storage.shards import ShardSet
from twoorl.web.search import PEOPLE_SHOWN, POSTS_PER_PAGE

THREE_SHARDS = pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
OLDER_RE = re.compile(r'<a rel="next" href="/search\?q=([^&"]*)&amp;max_id=(\d+)">')


async def say(person, text: str) -> None:
    response = await send(person, "/posts", {"status": text})
    assert response.status_code == 303, response.text


async def ids_with_text(shards: ShardSet, *texts: str) -> list[int]:
    """Ids of stored posts whose text is one of ``texts``, newest first."""
    found: list[int] = []
    for shard in shards.shards:
        async with shard.read() as conn:
            rows = await conn.execute(select(posts.c.id).where(posts.c.text.in_(texts)))
            found += rows.scalars()
    return sorted(found, reverse=True)


async def spread(people, shards: ShardSet, prefix: str, at_least: int = 3):
    """People living on every physical shard (at least ``at_least`` of them)."""
    made, homes = [], set()
    while len(made) < at_least or len(homes) < len(shards):
        assert len(made) < 40, "could not cover every shard"
        name = f"{prefix}{len(made)}"
        made.append(await people(name))
        homes.add(shards.for_id(await account_id(shards, name)).index)
    return made


async def found_ids(person, query: str, **params: str) -> list[int]:
    response = await person.get("/search", params={"q": query, **params})
    assert response.status_code == 200, (query[:40], response.text[:500])
    return post_ids(response.text)


@THREE_SHARDS
async def test_words_phrases_unicode_and_tags_across_three_shards(people, shards) -> None:
    writers = await spread(people, shards, "writer")
    texts = {
        "needle": [f"Needle number {i:02d} in a haystack" for i in range(len(writers))],
        "fox": ["the quick brown fox jumps", "brown and quick, the fox hides"],
        "cafe": ["Un CAFÉ au lait, s'il vous plaît"],
        "greek": ["Καλημέρα κόσμε από την Αθήνα"],
        "cjk": ["今天天气很好\uff0c我们去東京タワー吧"],
        "tags": ["Time for #tea and cake", "tea without the tag", "#TeaTime is later"],
    }
    every = [text for group in texts.values() for text in group]
    for i, text in enumerate(every):
        await say(writers[i % len(writers)], text)
    # Noise that must not match anything below.
    await say(writers[0], "nothing to see here")
    ana = writers[0]

    needles = await ids_with_text(shards, *texts["needle"])
    assert len(needles) == len(writers) >= 3
    # Each shard answers for its own posts; the page is their merge, newest first (covering
    # every shard can take more writers than a page shows).
    assert await found_ids(ana, "needle") == needles[:POSTS_PER_PAGE]
    assert await found_ids(ana, "NEEDLE haystack") == needles[:POSTS_PER_PAGE]
    assert await found_ids(ana, "needle 01") == await ids_with_text(shards, texts["needle"][1])

    both_foxes = await ids_with_text(shards, *texts["fox"])
    assert await found_ids(ana, "quick brown") == both_foxes
    assert await found_ids(ana, '"quick brown"') == await ids_with_text(shards, texts["fox"][0])
    assert await found_ids(ana, '"brown quick"') == []
    assert await found_ids(ana, 'fox "and quick"') == await ids_with_text(shards, texts["fox"][1])

    cafe = await ids_with_text(shards, *texts["cafe"])
    for query in ("café", "CAFÉ", "Café au"):
        assert await found_ids(ana, query) == cafe, query
    greek = await ids_with_text(shards, *texts["greek"])
    for query in ("καλημέρα", "ΚΑΛΗΜΈΡΑ", '"καλημέρα κόσμε"', "Αθήνα"):
        assert await found_ids(ana, query) == greek, query
    cjk = await ids_with_text(shards, *texts["cjk"])
    for query in ("天气", "東京タワー", "東京", '"天气很好"'):
        assert await found_ids(ana, query) == cjk, query
    assert await found_ids(ana, "大阪") == []

    # '#tea' is the tag; 'tea' is the word, tagged or not.
    tagged = await ids_with_text(shards, texts["tags"][0])
    assert await found_ids(ana, "#tea") == tagged
    assert await found_ids(ana, "#TEA") == tagged
    words = await ids_with_text(shards, *texts["tags"][:2])
    assert set(await found_ids(ana, "tea")) >= set(words)
    page = (await ana.get("/search", params={"q": "#tea"})).text
    assert 'href="/tags/tea"' in page and 'href="/tags/teatime"' in page

    # People by username prefix: the first PEOPLE_SHOWN usernames in order (covering every
    # shard can take more writers than one page shows, and "writer10" sorts before "writer2").
    page = (await ana.get("/search", params={"q": "writer"})).text
    usernames = sorted(writer.username for writer in writers)
    for username in usernames[:PEOPLE_SHOWN]:
        assert f'href="/@{username}"' in page
    for username in usernames[PEOPLE_SHOWN:]:
        assert f'href="/@{username}"' not in page


@THREE_SHARDS
async def test_deleted_posts_and_reposts_are_not_found(people, shards) -> None:
    ana, bob = await people("ana"), await people("bob")
    await say(ana, "a searchable sentence about marmalade")
    await say(ana, "more marmalade please")
    first, second = await ids_with_text(
        shards, "more marmalade please", "a searchable sentence about marmalade"
    )
    assert await found_ids(bob, "marmalade") == [first, second]
    # A repost is a row in posts with no text: the original is found once.
    assert (await send(bob, f"/posts/{second}/repost")).status_code == 303
    assert await found_ids(bob, "marmalade") == [first, second]
    assert (await send(ana, f"/@ana/{second}/delete")).status_code == 303
    assert await found_ids(bob, "marmalade") == [first]
    assert await found_ids(bob, "searchable") == []
    assert (await send(ana, f"/@ana/{first}/delete")).status_code == 303
    page = await bob.get("/search", params={"q": "marmalade"})
    assert post_ids(page.text) == [] and "No posts found." in page.text


NASTY_QUERIES = [
    "%",
    "_",
    "%_%",
    "'",
    '"',
    '""',
    '"unclosed phrase',
    "\\",
    "' OR 1=1 --",
    "'; DROP TABLE posts; --",
    "needle AND haystack",
    "needle OR nothing",
    "NOT needle",
    "NEAR(needle haystack, 2)",
    "needle*",
    "-needle",
    "^needle",
    "(needle)",
    "needle:*",
    "needle & !haystack | x <-> y",
    "text:needle",
    "{needle}",
    "#",
    "#" * 500,
    "@",
    "a\x00b",
    "\u202e\u200b",
    "<script>alert(1)</script>",
    "x" * 10_000,
    "needle " * 2_000,
]


@THREE_SHARDS
async def test_nasty_queries_answer_cleanly(people, shards) -> None:
    ana = await people("ana")
    await say(ana, "A needle in the haystack, 100% sure")
    [needle] = await ids_with_text(shards, "A needle in the haystack, 100% sure")
    for query in NASTY_QUERIES:
        response = await ana.get("/search", params={"q": query})
        assert response.status_code == 200, (query[:40], response.text[:300])
        assert "<script>alert" not in response.text
    # Operators are not operators: the words around them are searched, nothing more.
    for query in (
        "needle*",
        "-needle",
        "^needle",
        "(needle)",
        "needle:*",
        "{needle}",
        "needle:",
    ):
        assert await found_ids(ana, query) == [needle], query
    for query in ("needle IN haystack", "NEEDLE 100%"):
        assert await found_ids(ana, query) == [needle], query
    # Punctuation alone is no word: nothing, not everything.
    for query in ("%", "_", "%_%", "'", '"', "\\", "#", "@"):
        assert await found_ids(ana, query) == [], query
    # The query is shown back escaped.
    page = (await ana.get("/search", params={"q": "<b>needle</b>"})).text
    assert "&lt;b&gt;needle&lt;/b&gt;" in page and "<b>needle</b>" not in page
    # Nothing was dropped or changed by any of it.
    total = 0
    for shard in shards.shards:
        async with shard.read() as conn:
            total += (await conn.execute(select(func.count()).select_from(posts))).scalar_one()
    assert total == 1


@THREE_SHARDS
async def test_older_results_page_by_max_id(people, shards) -> None:
    writers = await spread(people, shards, "pager")
    texts = [f"paging post {i} with a marker word" for i in range(25)]
    for i, text in enumerate(texts):
        await say(writers[i % len(writers)], text)
    await say(writers[0], "unrelated")
    expected = await ids_with_text(shards, *texts)
    reader = writers[0]
    seen: list[list[int]] = []
    path: str | None = "/search?q=" + quote("marker word")
    while path:
        response = await reader.get(path)
        assert response.status_code == 200
        seen.append(post_ids(response.text))
        link = OLDER_RE.search(response.text)
        path = f"/search?q={html.unescape(link.group(1))}&max_id={link.group(2)}" if link else None
    assert [len(page) for page in seen] == [20, 5]
    assert [i for page in seen for i in page] == expected
    # Below the oldest match there is nothing, and no link.
    last = await reader.get("/search", params={"q": "marker word", "max_id": str(expected[-1])})
    assert post_ids(last.text) == [] and not OLDER_RE.search(last.text)


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
async def test_the_header_has_a_search_box_and_signed_out_search_works(people, shards) -> None:
    ana = await people("ana")
    await say(ana, "hello from the search box")
    visitor = await people()
    home = (await visitor.get("/")).text
    assert 'action="/search"' in home and 'name="q"' in home
    assert await found_ids(visitor, "search box") == await ids_with_text(
        shards, "hello from the search box"
    )
    empty = await visitor.get("/search")
    assert empty.status_code == 200 and post_ids(empty.text) == []
    # A bad cursor is refused, not a crash.
    assert (await visitor.get("/search?q=x&max_id=abc")).status_code == 400


async def test_the_api_search_uses_the_full_text_index(people, shards) -> None:
    """``search_posts`` (pages and the API) finds every word, in any order; a phrase in order."""
    ana = await people("ana")
    await say(ana, "concatenate the strings")
    found = await search_service.search_posts(shards, "concatenate strings", limit=5)
    assert [p.text for p in found] == ["concatenate the strings"]
    assert await search_service.search_posts(shards, "strings concatenate!", limit=5)
    assert await search_service.search_posts(shards, '"strings the"', limit=5) == []
