"""A person's search text, parsed into terms, and the full-text query each backend is given.

User text never reaches SQL or FTS syntax as written: it is cut into words of letters and
digits (``[^\\W_]+``, any script), so operators (AND, OR, NOT, NEAR, ``*``, ``-``, ``^``, ``:``,
parentheses, quotes, ``%``, ``_``) are at most separators, and each word is then quoted
into the backend's syntax, and the result is passed as a bound parameter.

- Words outside double quotes are separate terms, all required (AND).
- ``"an exact phrase"`` is one term: its words, in order, next to each other.
- A query that is only ``#tag`` searches that tag (``post_tags``), not the text.

PostgreSQL (``to_tsquery('simple', ...)`` against ``twoorl_search_document(text)``, migration
0005): words outside quotes match as prefixes (``'caf':*``), phrase words exactly, joined by
``<->``. CJK characters are indexed one by one, so a CJK word is the phrase of its characters.

SQLite (FTS5, trigram tokenizer): each term of three characters or more is an FTS5 string
(``"..."``), which matches as a case-insensitive substring; shorter terms (two CJK characters,
"in", "ok") cannot be looked up in a trigram index and become a ``LIKE`` on the text instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from twoorl.posts.text import normalize_tag, strip_control_characters

MAX_QUERY = 200
MAX_TERMS = 8
TRIGRAM = 3

WORD = re.compile(r"[^\W_]+")
PHRASE = re.compile(r'"([^"]*)"?')
# Must match _CJK_CLASS in migration 0005.
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
TAG_ONLY = re.compile(r"#([^\W]+)")


def clean_query(text: str) -> str:
    return " ".join(strip_control_characters(text).split())[:MAX_QUERY]


def _fold(word: str) -> str:
    # PostgreSQL's lower() keeps a final sigma, so both sides fold it to a plain sigma.
    return unicodedata.normalize("NFC", word).lower().replace("\u03c2", "\u03c3")


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    phrase: bool  # from double quotes: exact words; else one word, matched as a prefix

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class SearchQuery:
    text: str  # the cleaned query, as shown back
    terms: tuple[Term, ...]
    tag: str | None  # the query is one "#tag"

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.tag

    def postgres(self) -> str:
        """``to_tsquery('simple', ...)`` text: every word quoted, only our own operators."""
        parts = []
        for term in self.terms:
            pieces: list[str] = []
            for word in term.words:
                for chunk in _cjk_split(word):
                    exact = term.phrase or CJK.fullmatch(chunk) is not None
                    pieces.append(f"'{chunk}'" if exact else f"'{chunk}':*")
            parts.append("(" + " <-> ".join(pieces) + ")")
        return " & ".join(parts)

    def sqlite_match(self) -> str | None:
        """The FTS5 MATCH expression for the terms a trigram index can answer, or None."""
        strings = [f'"{term.text}"' for term in self.terms if len(term.text) >= TRIGRAM]
        return " ".join(strings) or None

    def sqlite_short_terms(self) -> list[str]:
        """Terms too short for the trigram index, matched with LIKE."""
        return [term.text for term in self.terms if len(term.text) < TRIGRAM]


def _cjk_split(word: str) -> list[str]:
    """'東京tower' -> ['東', '京', 'tower']: CJK characters alone, other runs whole."""
    out: list[str] = []
    run = ""
    for char in word:
        if CJK.fullmatch(char):
            if run:
                out.append(run)
                run = ""
            out.append(char)
        else:
            run += char
    if run:
        out.append(run)
    return out


def parse(raw: str) -> SearchQuery:
    text = clean_query(raw)
    tag_match = TAG_ONLY.fullmatch(text)
    if tag_match:
        return SearchQuery(text=text, terms=(), tag=normalize_tag(tag_match.group(1)))
    terms: list[Term] = []
    seen: set[Term] = set()

    def add(term: Term) -> None:
        if term.words and term not in seen and len(terms) < MAX_TERMS:
            seen.add(term)
            terms.append(term)

    position = 0
    for match in PHRASE.finditer(text):
        for word in WORD.findall(text[position : match.start()]):
            add(Term((_fold(word),), phrase=False))
        add(Term(tuple(_fold(w) for w in WORD.findall(match.group(1))), phrase=True))
        position = match.end()
    for word in WORD.findall(text[position:]):
        add(Term((_fold(word),), phrase=False))
    return SearchQuery(text=text, terms=tuple(terms), tag=None)
