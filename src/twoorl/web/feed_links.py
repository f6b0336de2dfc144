"""The feed links a page advertises (autodiscovery tags and visible links)."""

from __future__ import annotations

from dataclasses import dataclass

from twoorl.i18n import _

FORMATS = (
    ("rss", "application/rss+xml", "RSS"),
    ("atom", "application/atom+xml", "Atom"),
    ("json", "application/feed+json", "JSON Feed"),
)


@dataclass(frozen=True)
class FeedLink:
    href: str
    type: str
    label: str
    title: str
    group: str  # what the feed holds; a page with several groups names each


def links(path: str, title: str) -> list[FeedLink]:
    """``path`` without extension, e.g. "/public" or "/@ana/friends"."""
    return [
        FeedLink(f"{path}.{ext}", mime, label, f"{title} ({label})", title)
        for ext, mime, label in FORMATS
    ]


def public_feeds() -> list[FeedLink]:
    return links("/public", _("Twoorl: everyone's posts"))


def account_feeds(username: str, name: str) -> list[FeedLink]:
    return links(f"/@{username}", _("Posts by %(name)s") % {"name": name}) + links(
        f"/@{username}/friends", _("Posts by people %(name)s follows") % {"name": name}
    )
