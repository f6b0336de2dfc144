"""Feeds over HTTP on every backend: RSS 2.0, Atom 1.0 and JSON Feed 1.1 for the
everyone-timeline, a person's posts and the posts of the people they follow, read back with
a real feed reader (feedparser); conditional GET; escaping; unknown people and formats."""

from __future__ import annotations

import calendar
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import feedparser
import pytest
from sqlalchemy import select
from web_support import account_id, send

from twoorl.feeds.conditional import not_modified
from twoorl.feeds.render import entry_title
from twoorl.i18n import translations_for
from twoorl.ids import timestamp_ms_of
from twoorl.posts.tables import posts
from twoorl.storage.shards import ShardSet

BASE = "http://testserver"
FORMATS = ("rss", "atom", "json")
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
XML_FORMATS = ("rss", "atom")
ATOM = "{http://www.w3.org/2005/Atom}"


# --- helpers ---------------------------------------------------------------------------------


async def say(person, text: str) -> None:
    response = await send(person, "/posts", {"status": text})
    assert response.status_code == 303, response.text


async def own_posts(shards: ShardSet, username: str) -> dict[int, str]:
    """Post id -> text of the posts (not reposts) this person wrote."""
    author = await account_id(shards, username)
    found: dict[int, str] = {}
    for shard in shards.shards:
        async with shard.read() as conn:
            rows = await conn.execute(
                select(posts.c.id, posts.c.text).where(
                    posts.c.author_id == author, posts.c.repost_of_id.is_(None)
                )
            )
            found.update((row.id, row.text) for row in rows)
    return found


def newest_first(ids) -> list[int]:
    return sorted(ids, reverse=True)


def created_at(post_id: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms_of(post_id) / 1000, tz=UTC)


async def fetch(person, path: str, fmt: str, **kwargs):
    response = await person.get(path, **kwargs)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    assert response.headers["content-type"] == CONTENT_TYPES[fmt]
    return response


async def read_xml_feed(person, path: str, fmt: str):
    """The feed as a feed reader sees it; it must parse without complaint."""
    response = await fetch(person, path, fmt)
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == ("rss20" if fmt == "rss" else "atom10")
    return parsed


async def read_json_feed(person, path: str) -> dict:
    response = await fetch(person, path, "json")
    document = json.loads(response.content.decode("utf-8"))
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    return document


def entry_post_id(link: str, username: str | None = None) -> int:
    prefix = f"{BASE}/@{username}/" if username else f"{BASE}/@"
    assert link.startswith(prefix), link
    return int(link.rsplit("/", 1)[1])


async def feed_ids(person, path_without_format: str, fmt: str) -> list[int]:
    """The post ids of a feed's entries, in the feed's order."""
    path = f"{path_without_format}.{fmt}"
    if fmt == "json":
        return [entry_post_id(i["url"]) for i in (await read_json_feed(person, path))["items"]]
    return [entry_post_id(e.link) for e in (await read_xml_feed(person, path, fmt)).entries]


def assert_rfc3339_utc(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, value
    assert "T" in value
    return moment


# --- what every entry carries ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", XML_FORMATS)
async def test_xml_feed_entries_carry_link_id_author_date_title_and_content(
    people, shards, fmt
) -> None:
    alice = await people("alice")
    await send(
        alice, "/settings/profile", {"display_name": "Alice Liddell", "profile_color": "#1d9bf0"}
    )
    bob = await people("bob")
    await say(alice, "Hello @bob, see #feeds and https://example.org/page")
    await say(bob, "A plain post from bob")
    await say(alice, "x" * 130)
    reader = await people()  # signed out: feeds are public

    parsed = await read_xml_feed(reader, f"/@alice.{fmt}", fmt)
    assert parsed.feed.title == "Posts by Alice Liddell"
    assert parsed.feed.link == f"{BASE}/@alice"
    stored = await own_posts(shards, "alice")
    assert [entry_post_id(e.link, "alice") for e in parsed.entries] == newest_first(stored)
    for entry in parsed.entries:
        post_id = entry_post_id(entry.link, "alice")
        assert entry.link == f"{BASE}/@alice/{post_id}"
        assert entry.id == entry.link
        assert entry.author == "Alice Liddell"
        published = entry.published_parsed
        assert calendar.timegm(published) == int(created_at(post_id).timestamp())
        assert entry.title == entry_title(stored[post_id])
        # The permalink a reader follows answers.
        assert (await reader.get(entry.link)).status_code == 200
    if fmt == "atom":
        assert parsed.entries[0].author_detail.href == f"{BASE}/@alice"
    long_entry = parsed.entries[0]
    assert long_entry.title.endswith("…") and len(long_entry.title) <= 80

    mentions_entry = parsed.entries[1]
    html = (
        next(c.value for c in mentions_entry.content if c.type == "text/html")
        if fmt == "atom"
        else mentions_entry.description
    )
    assert f'href="{BASE}/@bob"' in html
    assert f'href="{BASE}/tags/feeds"' in html
    assert 'href="https://example.org/page"' in html
    if fmt == "atom":
        assert mentions_entry.summary == "Hello @bob, see #feeds and https://example.org/page"


async def test_json_feed_items(people, shards) -> None:
    alice = await people("alice")
    await say(alice, "First from alice")
    await say(alice, "Second from alice, to @alice")
    reader = await people()

    document = await read_json_feed(reader, "/@alice.json")
    assert document["title"] == "Posts by alice"
    assert document["home_page_url"] == f"{BASE}/@alice"
    assert document["feed_url"] == f"{BASE}/@alice.json"
    assert document["authors"] == [{"name": "alice", "url": f"{BASE}/@alice"}]
    stored = await own_posts(shards, "alice")
    items = document["items"]
    assert [entry_post_id(i["url"], "alice") for i in items] == newest_first(stored)
    for item in items:
        post_id = entry_post_id(item["url"], "alice")
        assert item["id"] == item["url"] == f"{BASE}/@alice/{post_id}"
        assert item["content_text"] == stored[post_id]
        assert item["content_html"]
        assert assert_rfc3339_utc(item["date_published"]) == created_at(post_id)
        assert item["authors"] == [{"name": "alice", "url": f"{BASE}/@alice"}]
        assert (await reader.get(item["url"])).status_code == 200
    assert f'<a class="mention" href="{BASE}/@alice">@alice</a>' in items[0]["content_html"]


# --- which posts, in which order -----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_public_feed_is_everyone_newest_first(people, shards, fmt) -> None:
    alice, bob = await people("alice"), await people("bob")
    for i in range(3):
        await say(alice, f"alice {i}")
        await say(bob, f"bob {i}")
    reader = await people()

    expected = newest_first({**await own_posts(shards, "alice"), **await own_posts(shards, "bob")})
    assert await feed_ids(reader, "/public", fmt) == expected
    if fmt == "json":
        assert (await read_json_feed(reader, "/public.json"))["title"] == "Twoorl: everyone's posts"
    else:
        parsed = await read_xml_feed(reader, f"/public.{fmt}", fmt)
        assert parsed.feed.title == "Twoorl: everyone's posts"
        assert parsed.feed.link == f"{BASE}/public"
        assert {e.author for e in parsed.entries} == {"alice", "bob"}


async def test_feeds_hold_the_20_newest_posts(people, shards) -> None:
    alice = await people("alice")
    for i in range(25):
        await say(alice, f"post number {i}")
    newest = newest_first(await own_posts(shards, "alice"))[:20]
    for fmt in FORMATS:
        assert await feed_ids(alice, "/@alice", fmt) == newest
        assert await feed_ids(alice, "/public", fmt) == newest


async def test_friends_feed_is_the_people_followed_without_reposts(people, shards) -> None:
    alice, bob, carol, dave = [await people(n) for n in ("alice", "bob", "carol", "dave")]
    for name in ("bob", "carol"):
        assert (await send(alice, f"/@{name}/follow")).status_code == 303
    await say(bob, "bob speaks")
    await say(dave, "dave, whom alice does not follow")
    await say(carol, "carol speaks")
    await say(alice, "alice's own post")
    dave_post = next(iter(await own_posts(shards, "dave")))
    assert (await send(bob, f"/posts/{dave_post}/repost")).status_code == 303
    reader = await people()

    expected = newest_first({**await own_posts(shards, "bob"), **await own_posts(shards, "carol")})
    for fmt in FORMATS:
        assert await feed_ids(reader, "/@alice/friends", fmt) == expected
        # A repost is not bob's own post either.
        assert await feed_ids(reader, "/@bob", fmt) == newest_first(await own_posts(shards, "bob"))
    parsed = await read_xml_feed(reader, "/@alice/friends.atom", "atom")
    assert parsed.feed.title == "Posts by people alice follows"
    assert [e.author for e in parsed.entries] == ["carol", "bob"]


# --- language ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_lang_picks_a_supported_language_and_ignores_others(people, fmt) -> None:
    alice = await people("alice")
    await say(alice, "hello")
    for query, feed_url_query in (("?lang=xx", ""), ("?lang=en", "?lang=en"), ("", "")):
        response = await fetch(alice, f"/@alice.{fmt}{query}", fmt)
        if fmt == "json":
            document = json.loads(response.content)
            assert document["title"] == "Posts by alice"
            assert document["feed_url"] == f"{BASE}/@alice.json{feed_url_query}"
        else:
            parsed = feedparser.parse(response.content)
            assert parsed.bozo == 0
            assert parsed.feed.title == "Posts by alice"
    # A supported code gives that language's title (English until its catalog has one);
    # the reader's own language settings do not count: the feed is cached by URL.
    german = translations_for("de").gettext("Posts by %(name)s") % {"name": "alice"}
    for query in ("?lang=de", "?lang=de-AT", "?lang=DE"):
        response = await fetch(alice, f"/@alice.{fmt}{query}", fmt)
        assert feed_title(response, fmt) == german
    accept_german = {"Accept-Language": "de", "Cookie": "lang=de"}
    response = await fetch(alice, f"/@alice.{fmt}", fmt, headers=accept_german)
    assert feed_title(response, fmt) == "Posts by alice"
    brazilian = translations_for("pt_BR").gettext("Twoorl: everyone's posts")
    response = await fetch(alice, f"/public.{fmt}?lang=pt-br", fmt)
    assert feed_title(response, fmt) == brazilian


def feed_title(response, fmt: str) -> str:
    if fmt == "json":
        return json.loads(response.content)["title"]
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0
    return parsed.feed.title


# --- conditional GET ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_conditional_get(people, fmt) -> None:
    alice = await people("alice")
    await say(alice, "first")
    path = f"/@alice.{fmt}"
    first = await fetch(alice, path, fmt)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"] == "public, max-age=60"
    assert etag.startswith('"') and etag.endswith('"')
    head = await alice.client.head(path)
    assert head.status_code == 200 and head.headers["etag"] == etag
    assert parsedate_to_datetime(last_modified) <= datetime.now(UTC)

    again = await alice.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=60"
    assert (
        await alice.get(path, headers={"If-None-Match": f'"other", W/{etag}'})
    ).status_code == 304
    assert (await alice.get(path, headers={"If-Modified-Since": last_modified})).status_code == 304
    later = format_datetime(parsedate_to_datetime(last_modified) + timedelta(days=1), usegmt=True)
    assert (await alice.get(path, headers={"If-Modified-Since": later})).status_code == 304
    earlier = format_datetime(parsedate_to_datetime(last_modified) - timedelta(days=1), usegmt=True)
    assert (await alice.get(path, headers={"If-Modified-Since": earlier})).status_code == 200
    # If-None-Match wins over If-Modified-Since.
    both = {"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
    assert (await alice.get(path, headers=both)).status_code == 200
    assert (await alice.get(path, headers={"If-Modified-Since": "garbage"})).status_code == 200
    # The same feed in another language or format is another representation.
    assert (await alice.get(f"{path}?lang=en")).headers["etag"] != etag
    other_fmt = next(f for f in FORMATS if f != fmt)
    assert (await alice.get(f"/@alice.{other_fmt}")).headers["etag"] != etag

    await say(alice, "second")
    changed = await alice.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert len(await feed_ids(alice, "/@alice", fmt)) == 2


async def test_renaming_the_author_changes_the_etag(people) -> None:
    alice = await people("alice")
    await say(alice, "hello")
    before = (await alice.get("/@alice.atom")).headers["etag"]
    await send(alice, "/settings/profile", {"display_name": "Alice", "profile_color": "#1d9bf0"})
    assert (await alice.get("/@alice.atom", headers={"If-None-Match": before})).status_code == 200


# --- empty, unknown, escaping ---------------------------------------------------------------


async def test_empty_feeds_are_valid(people, shards) -> None:
    quiet = await people("quiet")
    reader = await people()
    for path in ("/public", "/@quiet", "/@quiet/friends"):
        for fmt in XML_FORMATS:
            parsed = await read_xml_feed(reader, f"{path}.{fmt}", fmt)
            assert parsed.entries == []
        document = await read_json_feed(reader, f"{path}.json")
        assert document["items"] == []
    # An empty person-feed was last modified when the person arrived.
    response = await reader.get("/@quiet.rss")
    assert response.headers["last-modified"]
    assert (
        await reader.get("/@quiet.rss", headers={"If-None-Match": response.headers["etag"]})
    ).status_code == 304
    await say(quiet, "not quiet any more")
    assert len(await feed_ids(reader, "/@quiet", "rss")) == 1


async def test_unknown_people_and_formats_are_404(people) -> None:
    await people("alice")
    reader = await people()
    for fmt in FORMATS:
        for path in (f"/@nobody.{fmt}", f"/@nobody/friends.{fmt}", f"/@no%00body.{fmt}"):
            response = await reader.get(path)
            assert response.status_code == 404, path
            assert "text/html" in response.headers["content-type"]
    for path in ("/@alice.xml", "/@alice/friends.html", "/public.txt", "/@alice."):
        assert (await reader.get(path)).status_code == 404, path
    # The feed routes take nothing from the pages around them.
    assert (await reader.get("/@alice")).status_code == 200
    assert (await reader.get("/@alice/following")).status_code == 200
    assert (await reader.get("/public")).status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
async def test_html_in_posts_is_escaped(people, fmt) -> None:
    alice = await people("alice")
    text = '<script>x</script> & <b>bold</b> "quoted"'
    await say(alice, text)
    response = await fetch(alice, f"/@alice.{fmt}", fmt)
    if fmt == "json":
        item = json.loads(response.content)["items"][0]
        html, plain = item["content_html"], item["content_text"]
    else:
        root = ET.fromstring(response.content)
        if fmt == "rss":
            entry = root.find("channel/item")
            html, plain = entry.findtext("description"), entry.findtext("title")
        else:
            entry = root.find(f"{ATOM}entry")
            html = entry.findtext(f"{ATOM}content")
            plain = entry.findtext(f"{ATOM}summary")
            assert entry.find(f"{ATOM}content").get("type") == "html"
        assert b"<script>" not in response.content
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert plain == text


@pytest.mark.parametrize("settings_overrides", [{"base_url": "https://twoorl.example/"}])
async def test_links_use_the_configured_base_url(people, shards, settings_overrides) -> None:
    alice = await people("alice")
    await say(alice, "hello @alice")
    post_id = next(iter(await own_posts(shards, "alice")))
    parsed = await read_xml_feed(alice, "/@alice.atom", "atom")
    assert parsed.entries[0].link == f"https://twoorl.example/@alice/{post_id}"
    assert 'href="https://twoorl.example/@alice"' in parsed.entries[0].content[0].value
    document = await read_json_feed(alice, "/public.json?lang=EN")
    assert document["feed_url"] == "https://twoorl.example/public.json?lang=en"
    assert document["items"][0]["url"] == f"https://twoorl.example/@alice/{post_id}"


async def test_characters_xml_cannot_carry_are_left_out_of_xml_feeds(people) -> None:
    alice = await people("alice")
    await say(alice, "odd \ufffe\uffff characters")
    for fmt in XML_FORMATS:
        parsed = await read_xml_feed(alice, f"/@alice.{fmt}", fmt)
        assert parsed.entries[0].title == "odd  characters"
    item = (await read_json_feed(alice, "/@alice.json"))["items"][0]
    assert item["content_text"] == "odd \ufffe\uffff characters"


# --- pure helpers --------------------------------------------------------------------------------


def test_entry_title_is_one_line_cut_at_a_word() -> None:
    assert entry_title("  two\nlines\t here ") == "two lines here"
    assert entry_title("a" * 80) == "a" * 80
    assert entry_title("a" * 81) == "a" * 79 + "…"
    words = " ".join(["word"] * 30)
    cut = entry_title(words)
    assert cut.endswith("word…") and len(cut) <= 80
    # Graphemes, not code points: a family emoji is one character.
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert entry_title(family * 80) == family * 80


def test_not_modified_rules() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    stamp = format_datetime(moment, usegmt=True)
    assert not_modified('"a"', None, '"a"', moment)
    assert not_modified('W/"a"', None, '"a"', moment)
    assert not_modified("*", None, '"a"', moment)
    assert not not_modified('"b"', stamp, '"a"', moment)
    assert not_modified(None, stamp, '"a"', moment)
    assert not not_modified(None, "Thu, 01 Jan 2026 00:00:00 GMT", '"a"', moment)
    assert not not_modified(None, "not a date", '"a"', moment)
    assert not not_modified(None, None, '"a"', moment)
