"""Mastodon's OAuth scopes: ``read``, ``write``, ``follow``, ``push`` and the ``read:*`` /
``write:*`` sub-scopes. A token holding a top-level scope holds all of its sub-scopes;
``follow`` is the older name for the follow, block and mute sub-scopes."""

from __future__ import annotations

from collections.abc import Iterable

READ = (
    "accounts",
    "blocks",
    "bookmarks",
    "favourites",
    "filters",
    "follows",
    "lists",
    "mutes",
    "notifications",
    "search",
    "statuses",
)
WRITE = (
    "accounts",
    "blocks",
    "bookmarks",
    "conversations",
    "favourites",
    "filters",
    "follows",
    "lists",
    "media",
    "mutes",
    "notifications",
    "reports",
    "statuses",
)
FOLLOW_IMPLIES = frozenset(
    {"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}
)
KNOWN = frozenset(
    {"read", "write", "follow", "push"}
    | {f"read:{name}" for name in READ}
    | {f"write:{name}" for name in WRITE}
)
DEFAULT = "read"


class UnknownScope(ValueError):
    pass


def parse(text: str | None, default: str = DEFAULT) -> frozenset[str]:
    """Scopes from a space- (or, as some clients send them, comma-/plus-) separated string."""
    names = (text or "").replace(",", " ").replace("+", " ").split()
    if not names:
        names = default.split()
    unknown = [name for name in names if name not in KNOWN]
    if unknown:
        raise UnknownScope(" ".join(unknown))
    return frozenset(names)


def render(scopes: Iterable[str]) -> str:
    """A stable order, top-level scopes first, as Mastodon prints them."""
    return " ".join(sorted(scopes, key=lambda s: (":" in s, s)))


def grants(held: Iterable[str], required: str) -> bool:
    """Does a token holding ``held`` cover the endpoint scope ``required`` (say
    ``write:statuses``)?"""
    held = set(held)
    if required in held or required.split(":", 1)[0] in held:
        return True
    return "follow" in held and required in FOLLOW_IMPLIES


def within(requested: Iterable[str], allowed: Iterable[str]) -> bool:
    """Is every requested scope covered by the app's registered ones?"""
    allowed = set(allowed)
    return all(grants(allowed, scope) for scope in requested)
