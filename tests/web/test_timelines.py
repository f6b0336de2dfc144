"""Timelines over HTTP: home, public, tags, mentions and profiles; paging; merging across shards."""

from __future__ import annotations

import asyncio
import itertools
import re
from urllib.parse import quote

import pytest
from sqlalchemy import select
from web_support import account_id, send

from conftest import CSRF_RE, post_ids
from twoorl.posts.tables import posts
from twoorl.storage.shards import ShardSet
from twoorl.web.templating import AnonymousPages

OLDER_RE = re.compile(r'<a rel="next" href="\?max_id=(\d+)">Older')
PAGE_SIZE = 20


# --- helpers ---------------------------------------------------------------------------------


async def say(person, text: str) -> None:
    response = await send(person, "/posts", {"status": text})
    assert response.status_code == 303, response.text


async def follow(person, username: str) -> None:
    response = await send(person, f"/@{username}/follow")
    assert response.status_code == 303, response.text


async def unfollow(person, username: str) -> None:
    response = await send(person, f"/@{username}/unfollow")
    assert response.status_code == 303, response.text


async def stored_posts(shards: ShardSet, *usernames: str) -> dict[int, str]:
    """Post id -> text as stored, for these authors (everyone when none is named)."""
    wanted = [await account_id(shards, name) for name in usernames]
    found: dict[int, str] = {}
    for shard in shards.shards:
        query = select(posts.c.id, posts.c.text)
        if wanted:
            query = query.where(posts.c.author_id.in_(wanted))
        async with shard.read() as conn:
            found.update((row.id, row.text) for row in await conn.execute(query))
    return found


def newest_first(ids) -> list[int]:
    return sorted(ids, reverse=True)


async def spread_people(people, shards: ShardSet, prefix: str, at_least: int = 6, cap: int = 15):
    """Register at least ``at_least`` people; with several shards, keep registering (up to
    ``cap``) until they live on every physical shard. Returns (people, {username: shard})."""
    made, home_shard = [], {}
    while len(made) < at_least or (len(set(home_shard.values())) < len(shards) and len(made) < cap):
        name = f"{prefix}{len(made)}"
        made.append(await people(name))
        home_shard[name] = shards.for_id(await account_id(shards, name)).index
    assert len(set(home_shard.values())) >= min(2, len(shards)), home_shard
    return made, home_shard


async def walk(person, path: str) -> tuple[list[list[int]], list[str]]:
    """Follow the "Older" links from ``path``: the post ids of each page, and each page."""
    pages: list[list[int]] = []
    htmls: list[str] = []
    url = path
    while True:
        response = await person.get(url)
        assert response.status_code == 200, url
        ids = post_ids(response.text)
        pages.append(ids)
        htmls.append(response.text)
        older = OLDER_RE.search(response.text)
        if older is None:
            return pages, htmls
        assert ids, f"{url}: an Older link under an empty page"
        assert int(older.group(1)) == ids[-1], f"{url}: the cursor is not the last post shown"
        assert len(pages) < 10, "paging does not end"
        url = f"{path}?max_id={older.group(1)}"


def assert_paged(pages: list[list[int]], expected: list[int], where: str = "") -> None:
    sizes = [len(p) for p in pages]
    whole, last = divmod(len(expected), PAGE_SIZE)
    assert sizes == [PAGE_SIZE] * whole + ([last] if last else []), (where, sizes)
    flat = [i for page in pages for i in page]
    assert all(a > b for a, b in itertools.pairwise(flat)), f"{where}: not strictly newest first"
    assert flat == expected, f"{where}: gaps, overlaps or foreign posts"


# --- home timeline ---------------------------------------------------------------------------


async def test_home_shows_own_posts_and_followed_posts_only(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    await say(alice, "alice one")
    await asyncio.sleep(0.002)  # ids carry milliseconds: keep creation order visible
    await say(carol, "carol one")
    await asyncio.sleep(0.002)
    await say(bob, "bob one")
    ids = {text: i for i, text in (await stored_posts(shards)).items()}

    home = (await bob.get("/")).text
    assert "<h1>Home</h1>" in home
    assert post_ids(home) == [ids["bob one"]]
    assert "alice one" not in home

    await follow(bob, "alice")
    await asyncio.sleep(0.002)
    await say(alice, "alice two")
    ids = {text: i for i, text in (await stored_posts(shards)).items()}
    home = (await bob.get("/")).text
    assert post_ids(home) == [ids["alice two"], ids["bob one"], ids["alice one"]]
    assert home.index("alice two") < home.index("bob one") < home.index("alice one")
    assert "carol one" not in home
    assert post_ids(home) == newest_first((await stored_posts(shards, "alice", "bob")).keys())

    # Following is one-way: alice's home has only her own posts.
    assert post_ids((await alice.get("/")).text) == [ids["alice two"], ids["alice one"]]

    await unfollow(bob, "alice")
    home = (await bob.get("/")).text
    assert post_ids(home) == [ids["bob one"]]
    assert "alice" not in "".join(re.findall(r'class="handle">@(\w+)<', home))


async def test_an_empty_home_says_what_to_do(people):
    alice = await people("alice")
    home = await alice.get("/")
    assert home.status_code == 200
    assert post_ids(home.text) == []
    assert "Nothing here yet. Post something, or follow people to see their posts." in home.text
    assert '<form class="compose"' in home.text


async def test_logged_out_root_shows_the_public_timeline(people, shards):
    alice, bob, visitor = await people("alice"), await people("bob"), await people()
    empty = await visitor.get("/")
    assert "No posts yet. Be the first!" in empty.text
    await say(alice, "alice speaks")
    await say(bob, "bob speaks")
    everything = newest_first((await stored_posts(shards)).keys())
    assert len(everything) == 2

    root = await visitor.get("/")
    assert root.status_code == 200
    assert "What everyone is saying" in root.text
    assert "<h1>Home</h1>" not in root.text
    assert '<form class="compose"' not in root.text
    assert post_ids(root.text) == everything
    assert post_ids((await visitor.get("/public")).text) == everything
    # Signed in, / is the home timeline instead.
    assert post_ids((await alice.get("/")).text) == newest_first(
        (await stored_posts(shards, "alice")).keys()
    )


async def test_mentions_need_a_login(people):
    visitor = await people()
    response = await visitor.get("/mentions")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize("query", ["max_id=0", "max_id=-5", "max_id=abc", "max_id=1e3"])
async def test_a_bad_cursor_is_a_400_not_a_crash(people, query):
    alice = await people("alice")
    for path in ["/", "/public", "/@alice", "/tags/foo", "/mentions"]:
        response = await alice.get(f"{path}?{query}")
        assert response.status_code == 400, path


# --- paging ----------------------------------------------------------------------------------


async def test_paging_through_45_posts_on_every_timeline(people, shards):
    """45 posts by authors spread over the shards, each tagged #paging and mentioning @reader,
    who follows every author and posts nothing: home, public, tag and mentions all page alike
    (one set-up for the four timelines keeps the suite quick)."""
    authors, _ = await spread_people(people, shards, "author")
    reader = await people("reader")
    for author in authors:
        await follow(reader, author.username)
    for n in range(45):
        await say(authors[n % len(authors)], f"post {n} #paging @reader")
    expected = newest_first((await stored_posts(shards)).keys())
    assert len(expected) == 45
    if len(shards) > 1:
        assert len({shards.for_id(i).index for i in expected}) >= 2

    for path in ["/", "/public", "/tags/paging", "/mentions"]:
        pages, htmls = await walk(reader, path)
        assert_paged(pages, expected, path)
        assert f'href="?max_id={pages[0][-1]}"' in htmls[0], path
        assert OLDER_RE.search(htmls[-1]) is None, path
        assert "post 44 " in htmls[0] and "post 0 " in htmls[-1], path


async def test_paging_a_profile(people, shards):
    alice, bob = await people("alice"), await people("bob")
    for n in range(45):
        await say(alice, f"alice {n}")
        if n % 10 == 0:
            await say(bob, f"bob {n}")
    expected = newest_first((await stored_posts(shards, "alice")).keys())
    assert len(expected) == 45
    pages, htmls = await walk(bob, "/@alice")
    assert_paged(pages, expected)
    assert "alice 44" in htmls[0] and "alice 0" in htmls[-1]
    assert all("bob " not in page for page in htmls)


async def test_an_older_link_appears_only_when_there_is_more(people, shards):
    alice = await people("alice")
    for n in range(PAGE_SIZE):
        await say(alice, f"post {n}")
    page = await alice.get("/")
    assert len(post_ids(page.text)) == PAGE_SIZE
    assert OLDER_RE.search(page.text) is None  # exactly one page: nothing older
    await say(alice, "one more")
    pages, _ = await walk(alice, "/")
    assert [len(p) for p in pages] == [PAGE_SIZE, 1]


# --- tags ------------------------------------------------------------------------------------


async def test_tags_match_whatever_the_case(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    await say(alice, "I like #foo")
    await say(bob, "LOUD #FOO!")
    carol_text = "#food is not #fo, and not#foo either, foo"
    await say(carol, carol_text)
    ids = {text: i for i, text in (await stored_posts(shards)).items()}
    wanted = newest_first([ids["I like #foo"], ids["LOUD #FOO!"]])
    for path in ["/tags/foo", "/tags/Foo", "/tags/FOO"]:
        page = await carol.get(path)
        assert page.status_code == 200, path
        assert post_ids(page.text) == wanted, path
    assert "Posts tagged #Foo" in (await carol.get("/tags/Foo")).text
    assert post_ids((await carol.get("/tags/food")).text) == [ids[carol_text]]
    assert post_ids((await carol.get("/tags/fo")).text) == [ids[carol_text]]


async def test_a_unicode_tag_works(people, shards):
    alice = await people("alice")
    await say(alice, "東京にいます #日本語 #Ünïcödé")
    [post_id] = (await stored_posts(shards)).keys()
    profile = (await alice.get("/@alice")).text
    href = "/tags/" + quote("日本語")
    assert f'<a class="hashtag" href="{href}">#日本語</a>' in profile
    for path in [href, "/tags/日本語", "/tags/ünïcödé", "/tags/" + quote("ÜNÏCÖDÉ")]:
        page = await alice.get(path)
        assert page.status_code == 200, path
        assert post_ids(page.text) == [post_id], path
    assert "Posts tagged #日本語" in (await alice.get(href)).text


async def test_a_tag_without_posts_says_so(people):
    alice = await people("alice")
    await say(alice, "#something else")
    page = await alice.get("/tags/nothinghere")
    assert page.status_code == 200
    assert post_ids(page.text) == []
    assert "No posts with this tag yet." in page.text


# --- several shards --------------------------------------------------------------------------


async def test_home_merges_followed_people_across_shards(people, shards):
    """The reader follows people on other physical shards; the home timeline is their posts
    and the reader's own, merged newest first, and nobody else's."""
    everyone, home_shard = await spread_people(people, shards, "user")
    reader = everyone[0]
    others = everyone[1:]
    if len(shards) > 1:
        # Keep registering until at least two people live away from the reader's shard.
        while sum(s != home_shard[reader.username] for s in home_shard.values()) < 2:
            assert len(everyone) < 20, home_shard
            name = f"user{len(everyone)}"
            everyone.append(await people(name))
            others.append(everyone[-1])
            home_shard[name] = shards.for_id(await account_id(shards, name)).index
    elsewhere = [p for p in others if home_shard[p.username] != home_shard[reader.username]]
    stranger = elsewhere[0] if len(shards) > 1 else others[0]
    followed = [p for p in others if p is not stranger]
    for person in followed:
        await follow(reader, person.username)

    order: list[str] = []
    for round_ in range(3):
        for person in everyone:
            text = f"{person.username} says {round_}"
            await say(person, text)
            order.append(text)
            await asyncio.sleep(0.002)  # ids carry milliseconds: keep creation order visible

    visible = {reader.username, *(p.username for p in followed)}
    stored = await stored_posts(shards, *visible)
    expected = newest_first(stored.keys())
    assert len(expected) == 3 * len(visible)
    if len(shards) > 1:
        assert len({shards.for_id(i).index for i in expected}) >= 2

    pages, htmls = await walk(reader, "/")
    assert_paged(pages, expected)
    shown = "".join(htmls)
    # Newest first is also the order they were written in.
    assert [stored[i] for i in expected] == [t for t in reversed(order) if t in stored.values()]
    assert f"{stranger.username} says" not in shown
    for person in followed:
        assert f"{person.username} says 2" in shown


async def test_anonymous_visitors_share_one_page_but_not_its_form_token(people):
    """The public page is rendered once for every anonymous visitor (``ANONYMOUS_PAGES``),
    yet each gets a token that works with their own cookie, and any change shows at once."""
    alice = await people("alice")
    await say(alice, "first words")
    one, two = await people(), await people()
    first, again, other = await one.get("/public"), await one.get("/public"), await two.get("/")

    def token(page) -> str:
        return CSRF_RE.search(page.text).group(1)

    assert token(first) == token(again) != token(other)
    assert first.text == again.text
    assert AnonymousPages.PLACEHOLDER not in first.text + other.text
    switched = await two.client.post(
        "/language", data={"csrf_token": token(other), "locale": "de", "next": "/"}
    )
    assert switched.status_code == 303, switched.text
    assert '<html lang="de"' in (await two.get("/")).text
    assert '<html lang="en"' in (await one.get("/")).text

    await say(alice, "second words")
    await alice.submit(
        "/settings/profile",
        {"display_name": "Alice L.", "bio": "", "locale": "", "profile_color": "#1d9bf0"},
        page="/settings",
    )
    fresh = (await one.get("/public")).text
    assert "second words" in fresh and "Alice L." in fresh
