"""Post text: how long it is as a person counts it, what it mentions and tags, and how it
renders to safe HTML (escape first, then link URLs, @mentions and #hashtags)."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

import regex
from markupsafe import Markup, escape

URL_LENGTH = 23  # every link counts the same, however long, as on Twitter/Mastodon
MAX_TAG_LENGTH = 100

_URL = r"https?://[^\s<>\"'\p{Cc}]+"
_MENTION = r"(?<![\p{L}\p{N}_@/.])@(?P<username>[A-Za-z0-9_]{1,30})(?![A-Za-z0-9_@])"
# A hashtag holds letters, digits and underscores, and at least one letter (#2024 is a number).
_HASHTAG = r"(?<![\p{L}\p{M}\p{N}_#&/])#(?P<tagname>[\p{L}\p{M}\p{N}_]*\p{L}[\p{L}\p{M}\p{N}_]*)"
_TOKEN = regex.compile(f"(?P<url>{_URL})|(?P<mention>{_MENTION})|(?P<tag>{_HASHTAG})")
_TRAILING_PUNCTUATION = ".,:;!?\"')]}"
_GRAPHEME = regex.compile(r"\X")


@dataclass(frozen=True)
class Token:
    kind: str  # "text", "url", "mention" or "tag"
    text: str  # exactly as written
    value: str  # the URL, the username, or the tag without '#'


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        kind = next(k for k in ("url", "mention", "tag") if match.group(k) is not None)
        written = match.group(0)
        if kind == "url":
            written = _trim_url(written)
            end = start + len(written)
            value = written
        elif kind == "mention":
            value = match.group("username")
        else:
            value = match.group("tagname")
        if start > position:
            tokens.append(Token("text", text[position:start], text[position:start]))
        tokens.append(Token(kind, written, value))
        position = end
    if position < len(text):
        tokens.append(Token("text", text[position:], text[position:]))
    return _merge_adjacent_text(tokens)


def _trim_url(url: str) -> str:
    """'see https://x.org/a.' ends the sentence, not the link; a closing parenthesis stays
    when it pairs with one inside the link (Wikipedia-style URLs)."""
    while url and url[-1] in _TRAILING_PUNCTUATION:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _merge_adjacent_text(tokens: list[Token]) -> list[Token]:
    merged: list[Token] = []
    for token in tokens:
        if merged and token.kind == "text" and merged[-1].kind == "text":
            joined = merged[-1].text + token.text
            merged[-1] = Token("text", joined, joined)
        else:
            merged.append(token)
    return merged


_CONTROL = regex.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_control_characters(text: str) -> str:
    """Drop control characters (keeping tab and newlines): invisible, and PostgreSQL refuses
    NUL in text."""
    return _CONTROL.sub("", text)


def visible_length(text: str) -> int:
    """Characters as a person sees them (grapheme clusters: an emoji with modifiers is one),
    with every URL counted as ``URL_LENGTH``."""
    total = 0
    for token in tokenize(text):
        if token.kind == "url":
            total += URL_LENGTH
        else:
            total += len(_GRAPHEME.findall(token.text))
    return total


def mentioned_usernames(text: str) -> list[str]:
    """Each @username once, in order of first appearance, case kept as written."""
    return list(_mentioned_usernames(text))


# Pages ask these of the same posts again and again; a post's text never changes.
@functools.lru_cache(maxsize=16384)
def _mentioned_usernames(text: str) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for token in tokenize(text):
        if token.kind == "mention":
            seen.setdefault(token.value.lower(), token.value)
    return tuple(seen.values())


def hashtags(text: str) -> list[str]:
    """Each tag once, normalised (case-folded), without '#'."""
    return list(_hashtags(text))


@functools.lru_cache(maxsize=16384)
def _hashtags(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for token in tokenize(text):
        if token.kind == "tag":
            tag = normalize_tag(token.value)
            # Checked after folding: 'ß' folds to 'ss', so a tag can grow.
            if len(tag) <= MAX_TAG_LENGTH:
                seen.setdefault(tag, None)
    return tuple(seen)


def normalize_tag(tag: str) -> str:
    return unicodedata.normalize("NFC", tag.removeprefix("#")).casefold()


@functools.lru_cache(maxsize=16384)
def render_html(text: str, base_url: str = "") -> Markup:
    """Safe HTML for a post: all text escaped, links with rel="nofollow noopener".
    ``base_url`` makes mention and tag links absolute (for the API's clients)."""
    parts: list[str] = []
    for token in tokenize(text):
        if token.kind == "url":
            parts.append(
                f'<a href="{escape(token.value)}" rel="nofollow noopener" target="_blank">'
                f"{escape(_shorten(token.value))}</a>"
            )
        elif token.kind == "mention":
            parts.append(
                f'<a class="mention" href="{escape(base_url)}/@{escape(token.value)}">'
                f"@{escape(token.value)}</a>"
            )
        elif token.kind == "tag":
            href = base_url + "/tags/" + quote(normalize_tag(token.value))
            parts.append(f'<a class="hashtag" href="{escape(href)}">#{escape(token.value)}</a>')
        else:
            parts.append(str(escape(token.text)))
    return Markup("".join(parts))


def _shorten(url: str, keep: int = 40) -> str:
    shown = url.split("://", 1)[-1]
    return shown if len(shown) <= keep else shown[: keep - 1] + "…"
