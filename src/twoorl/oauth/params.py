"""How OAuth parameters arrive from real clients."""

from __future__ import annotations

# Mastodon.py sends unset optional parameters as the literal words.
LITERAL_NOTHING = frozenset({"", "None", "null", "False", "false"})


def given(value: str | None) -> str | None:
    """A parameter's value, or None for the words clients send for "not set"."""
    return None if value is None or value in LITERAL_NOTHING else value
