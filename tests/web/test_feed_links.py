"""Pages advertise their feeds (autodiscovery tags and visible links), and the links work."""

from __future__ import annotations

import re

ALTERNATE = re.compile(r'<link rel="alternate" type="([^"]+)" title="[^"]+" href="([^"]+)">')


async def check_links(person, page_path: str, expected_paths: list[str]) -> None:
    page = (await person.get(page_path)).text
    found = ALTERNATE.findall(page)
    assert [href for _, href in found] == expected_paths
    for mime, href in found:
        assert f'<a href="{href}" type="{mime}">' in page  # visible too
        response = await person.get(href)
        assert response.status_code == 200, href
        assert response.headers["content-type"].startswith(mime), href


async def test_public_page_links_its_feeds(people) -> None:
    visitor = await people()
    await check_links(visitor, "/public", ["/public.rss", "/public.atom", "/public.json"])


async def test_profile_links_posts_and_friends_feeds(people) -> None:
    alice = await people("alice")
    await alice.post("hello feeds")
    expected = [
        f"/@alice{suffix}.{ext}" for suffix in ("", "/friends") for ext in ("rss", "atom", "json")
    ]
    await check_links(alice, "/@alice", expected)
    # Two sets of the same three formats: each is named, so a reader knows which is which.
    page = (await alice.get("/@alice")).text
    assert "<li>Posts by alice:" in page and "<li>Posts by people alice follows:" in page
    assert "<li>" not in (await alice.get("/public")).text.split('class="feed-links"')[1]


async def test_home_page_has_no_feed_tags(people) -> None:
    alice = await people("alice")
    assert not ALTERNATE.findall((await alice.get("/")).text)
