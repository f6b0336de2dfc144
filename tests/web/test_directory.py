"""``/users``: the directory of people, newest or most followed first, paged by cursor,
follower counts merged from every shard, and a follow button for signed-in viewers."""

from __future__ import annotations

import html
import re

import pytest
from web_support import send

from twoorl.search import directory

THREE_SHARDS = pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
ROW_RE = re.compile(r'<a href="/@([^"]+)"><strong>')
FOLLOWERS_RE = re.compile(r'<span class="followers">(\d+) follower')
MORE_RE = re.compile(r'<a rel="next" href="(/users\?[^"]+)">')


async def walk(person, path: str) -> tuple[list[list[str]], list[str]]:
    """Every page from ``path`` on, following "More": the usernames on each, and each page."""
    pages, bodies = [], []
    next_path: str | None = path
    while next_path:
        assert len(pages) < 50
        response = await person.get(next_path)
        assert response.status_code == 200, response.text
        bodies.append(response.text)
        pages.append(ROW_RE.findall(response.text))
        link = MORE_RE.search(response.text)
        next_path = html.unescape(link.group(1)) if link else None
    return pages, bodies


@THREE_SHARDS
async def test_newest_first_paged(people, shards, monkeypatch) -> None:
    monkeypatch.setattr(directory, "PER_PAGE", 2)
    names = [f"person{i}" for i in range(7)]
    made = [await people(name) for name in names]
    pages, _bodies = await walk(made[0], "/users")
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    assert [name for page in pages for name in page] == names[::-1]
    # The default order is "new"; anything else is "new" too.
    assert (await walk(made[0], "/users?order=nonsense"))[0] == pages
    # A nonsense cursor starts at the top rather than failing.
    assert (await made[0].get("/users?before=abc")).status_code == 200


@THREE_SHARDS
async def test_most_followed_first_merged_across_shards_and_paged(
    people, shards, monkeypatch
) -> None:
    monkeypatch.setattr(directory, "PER_PAGE", 2)
    made = {name: await people(name) for name in ("ana", "bob", "cy", "dee", "eve", "fay")}
    # bob: 3 followers, dee: 2, ana: 1; cy, eve and fay: none (newest first after the rest).
    for follower, followee in [
        ("ana", "bob"),
        ("cy", "bob"),
        ("dee", "bob"),
        ("ana", "dee"),
        ("eve", "dee"),
        ("fay", "ana"),
    ]:
        assert (await send(made[follower], f"/@{followee}/follow")).status_code == 303
    # An unfollow back to zero keeps a counters row with 0: still among the unfollowed.
    assert (await send(made["bob"], "/@fay/follow")).status_code == 303
    assert (await send(made["bob"], "/@fay/unfollow")).status_code == 303

    pages, bodies = await walk(made["ana"], "/users?order=popular")
    assert [name for page in pages for name in page] == ["bob", "dee", "ana", "fay", "eve", "cy"]
    assert [len(page) for page in pages] == [2, 2, 2]
    counts = [int(n) for body in bodies for n in FOLLOWERS_RE.findall(body)]
    assert counts == [3, 2, 1, 0, 0, 0]
    assert 'aria-current="page">Most followed' in bodies[0]


@THREE_SHARDS
async def test_rows_have_follow_buttons_that_work(people, shards) -> None:
    ana, _bob = await people("ana"), await people("bob")
    page = (await ana.get("/users")).text
    assert 'action="/@bob/follow"' in page
    assert 'action="/@ana/follow"' not in page  # not oneself
    response = await send(ana, "/@bob/follow", {"next": "/users?order=popular"})
    assert response.status_code == 303
    assert response.headers["location"] == "/users?order=popular"
    page = (await ana.get("/users?order=popular")).text
    assert 'action="/@bob/unfollow"' in page
    assert re.search(
        r'href="/@bob"><strong>bob</strong>.*?<span class="followers">1 follower<', page, re.S
    )
    # Signed out: the list, no buttons.
    visitor = await people()
    page = (await visitor.get("/users")).text
    assert ROW_RE.findall(page) == ["bob", "ana"]
    assert "/follow" not in page
    # The header links to the directory.
    assert 'href="/users"' in page


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
async def test_names_and_bios_are_escaped(people, shards) -> None:
    ana = await people("ana")
    response = await send(
        ana,
        "/settings/profile",
        {"display_name": "<b>Ana</b>", "bio": "<script>alert(1)</script> " + "long " * 30},
    )
    assert response.status_code == 303, response.text
    page = (await ana.get("/users")).text
    assert "<script>alert(1)" not in page and "<b>Ana</b>" not in page
    assert "&lt;b&gt;Ana&lt;/b&gt;" in page
