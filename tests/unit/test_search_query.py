"""How a search box's text becomes index syntax: words only, every one quoted by us."""

from __future__ import annotations

import re

import pytest

from twoorl.search.query import MAX_TERMS, parse


def test_words_phrases_and_tags() -> None:
    query = parse('Café  "Quick  brown" fox')
    assert [(t.words, t.phrase) for t in query.terms] == [
        (("café",), False),
        (("quick", "brown"), True),
        (("fox",), False),
    ]
    assert query.postgres() == "('café':*) & ('quick' <-> 'brown') & ('fox':*)"
    assert query.sqlite_match() == '"café" "quick brown" "fox"'
    assert parse("#TeaTime").tag == "teatime" and parse("#TeaTime").terms == ()
    assert parse("#tea time").tag is None  # a tag among words is a word


def test_cjk_words_are_phrases_of_their_characters() -> None:
    query = parse("東京タワー tower")
    assert query.postgres() == "('東' <-> '京' <-> 'タ' <-> 'ワ' <-> 'ー') & ('tower':*)"
    # Two characters are too short for a trigram: SQLite matches them with LIKE.
    short = parse("天气 ok")
    assert short.sqlite_match() is None and short.sqlite_short_terms() == ["天气", "ok"]


@pytest.mark.parametrize(
    "text",
    [
        "needle OR x*",
        "NEAR(a b) -c ^d",
        "a & !b | c <-> d",
        "'; DROP TABLE posts; --",
        '"unclosed',
        "col:value",
        "%_\\",
        "x" * 10_000,
    ],
)
def test_no_user_syntax_survives(text: str) -> None:
    query = parse(text)
    for term in query.terms:
        for word in term.words:
            assert word.isalnum(), word
    # Outside our own quoted lexemes, only our own operators are left.
    outside = re.sub(r"'[^'\\]+'(:\*)?", "", query.postgres())
    assert set(outside) <= set("()&<-> "), outside
    outside_fts = re.sub(r'"[^"]+"', "", query.sqlite_match() or "")
    assert set(outside_fts) <= {" "}, outside_fts
    assert len(query.terms) <= MAX_TERMS


def test_final_sigma_and_case_fold_like_postgresql() -> None:
    assert parse("ΣΟΦΟΣ").terms[0].words == ("σοφοσ",)
    assert parse("σοφος").terms[0].words == ("σοφοσ",)
    assert parse("%").is_empty and parse('""').is_empty and parse("#").is_empty
