"""Writing a feed as RSS 2.0 or Atom 1.0 (feedgen) or JSON Feed 1.1 (a small dict, by hand).

Every entry carries its permalink (as link and id), its author (name and profile URL), its
date from the post's snowflake id, and its words twice: as plain text and as the same safe
HTML the pages show (``render_html``), with the mention and tag links made absolute.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import regex
from feedgen.feed import FeedGenerator

from twoorl.feeds.models import Feed, FeedEntry, profile_url
from twoorl.posts.text import render_html

TITLE_LENGTH = 80
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR = "Twoorl"

_GRAPHEME = regex.compile(r"\X")
_WHITESPACE = regex.compile(r"\s+")
# Characters XML 1.0 cannot carry at all (lxml refuses them): drop them from XML feeds.
_NOT_XML = regex.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def entry_title(text: str, length: int = TITLE_LENGTH) -> str:
    """The post on one line, cut to ``length`` characters as a person counts them, at a word
    boundary when one is near, with an ellipsis when cut."""
    line = _WHITESPACE.sub(" ", text).strip()
    graphemes = _GRAPHEME.findall(line)
    if len(graphemes) <= length:
        return line
    cut = "".join(graphemes[: length - 1])
    space = cut.rfind(" ")
    if space >= length // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def entry_html(entry: FeedEntry) -> str:
    """``render_html`` with its site-relative links (mentions, tags) made absolute: a feed
    reader has no page to resolve them against. Post text is escaped before linking, so the
    only ``href="/`` in the output are the ones ``render_html`` wrote."""
    return str(render_html(entry.post.text)).replace('href="/', f'href="{entry.base_url}/')


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


def _generator(feed: Feed, fmt: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(feed.id_url(fmt))
    fg.title(_xml(feed.title))
    fg.description(_xml(feed.title))  # RSS requires one; Atom calls it the subtitle
    # The last link given becomes RSS's <link>, so the page comes after the feed itself.
    fg.link(href=feed.self_url(fmt), rel="self", type=_self_type(fmt))
    fg.link(href=feed.home_page_url, rel="alternate", type="text/html")
    fg.updated(feed.updated)
    fg.lastBuildDate(feed.updated)
    fg.generator(GENERATOR)
    if feed.owner is not None:
        # Atom wants a feed author unless every entry has one: an empty feed has none.
        fg.author({"name": _xml(feed.owner.name), "uri": profile_url(feed.base_url, feed.owner)})
    return fg


def _self_type(fmt: str) -> str:
    return "application/rss+xml" if fmt == "rss" else "application/atom+xml"


def to_atom(feed: Feed) -> bytes:
    fg = _generator(feed, "atom")
    for entry in feed.entries:
        fe = fg.add_entry(order="append")
        fe.id(entry.url)
        fe.title(_xml(entry_title(entry.post.text)))
        fe.link(href=entry.url, rel="alternate", type="text/html")
        fe.author({"name": _xml(entry.author.name), "uri": entry.author_url})
        fe.published(entry.published)
        fe.updated(entry.published)
        fe.content(_xml(entry_html(entry)), type="html")
        fe.summary(_xml(entry.post.text), type="text")
    return fg.atom_str(pretty=False)


def to_rss(feed: Feed) -> bytes:
    fg = _generator(feed, "rss")
    # RSS's <author> must be an email address, which is private: dc:creator names people.
    fg.load_extension("dc", atom=False, rss=True)
    for entry in feed.entries:
        fe = fg.add_entry(order="append")
        fe.guid(entry.url, permalink=True)
        fe.title(_xml(entry_title(entry.post.text)))
        fe.link(href=entry.url, rel="alternate")
        fe.description(_xml(entry_html(entry)))
        fe.pubDate(entry.published)
        fe.dc.dc_creator(_xml(entry.author.name))
    return fg.rss_str(pretty=False)


def json_feed(feed: Feed) -> dict:
    """JSON Feed 1.1. Items carry no title: the spec asks microblog posts to leave it out
    (readers would show the words twice)."""
    document: dict = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": feed.home_page_url,
        "feed_url": feed.self_url("json"),
    }
    if feed.owner is not None:
        document["authors"] = [
            {"name": feed.owner.name, "url": profile_url(feed.base_url, feed.owner)}
        ]
    document["items"] = [_json_item(entry) for entry in feed.entries]
    return document


def _json_item(entry: FeedEntry) -> dict:
    return {
        "id": entry.url,
        "url": entry.url,
        "content_html": entry_html(entry),
        "content_text": entry.post.text,
        "date_published": rfc3339(entry.published),
        "authors": [{"name": entry.author.name, "url": entry.author_url}],
    }


def to_json(feed: Feed) -> bytes:
    return json.dumps(json_feed(feed), ensure_ascii=False, indent=None).encode("utf-8")


RENDERERS = {"rss": to_rss, "atom": to_atom, "json": to_json}


def render(feed: Feed, fmt: str) -> bytes:
    return RENDERERS[fmt](feed)
