"""Post text: tokens, visible length, mentions, hashtags and safe HTML."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from markupsafe import Markup

from twoorl.posts.text import (
    MAX_TAG_LENGTH,
    URL_LENGTH,
    Token,
    hashtags,
    mentioned_usernames,
    normalize_tag,
    render_html,
    tokenize,
    visible_length,
)

# --- tokenize ---------------------------------------------------------------------------------


def test_tokenize_plain_text_is_one_token() -> None:
    assert tokenize("just words") == [Token("text", "just words", "just words")]


def test_tokenize_empty_text() -> None:
    assert tokenize("") == []


def test_tokenize_splits_all_kinds_in_order() -> None:
    text = "hi @Alice see https://x.org/a about #Python!"
    assert tokenize(text) == [
        Token("text", "hi ", "hi "),
        Token("mention", "@Alice", "Alice"),
        Token("text", " see ", " see "),
        Token("url", "https://x.org/a", "https://x.org/a"),
        Token("text", " about ", " about "),
        Token("tag", "#Python", "Python"),
        Token("text", "!", "!"),
    ]


@given(st.text())
def test_tokens_reassemble_the_text(text: str) -> None:
    tokens = tokenize(text)
    assert "".join(t.text for t in tokens) == text
    # Neighbouring plain text is merged into one token.
    assert all(not (a.kind == "text" and b.kind == "text") for a, b in pairwise(tokens))


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("see https://x.org/a.", "https://x.org/a"),
        ("see https://x.org/a, then", "https://x.org/a"),
        ("really? https://x.org/a?!", "https://x.org/a"),
        ("(https://x.org/a)", "https://x.org/a"),
        ("[https://x.org/a]", "https://x.org/a"),
        ("at https://x.org/a:", "https://x.org/a"),
        ("https://x.org/a?q=1&b=2", "https://x.org/a?q=1&b=2"),
        ("http://x.org", "http://x.org"),
        ("<https://x.org/a>", "https://x.org/a"),
        ('"https://x.org/a"', "https://x.org/a"),
    ],
)
def test_url_boundaries(text: str, url: str) -> None:
    urls = [t.value for t in tokenize(text) if t.kind == "url"]
    assert urls == [url]


def test_trailing_punctuation_stays_as_text() -> None:
    assert tokenize("go to https://x.org/a!") == [
        Token("text", "go to ", "go to "),
        Token("url", "https://x.org/a", "https://x.org/a"),
        Token("text", "!", "!"),
    ]


def test_url_with_balanced_parentheses_keeps_its_closing_paren() -> None:
    url = "https://en.wikipedia.org/wiki/Python_(programming_language)"
    assert [t.value for t in tokenize(f"read {url}") if t.kind == "url"] == [url]


def test_url_with_unbalanced_closing_paren_drops_it() -> None:
    assert [t.value for t in tokenize("(see https://x.org/a_b)") if t.kind == "url"] == [
        "https://x.org/a_b"
    ]


@pytest.mark.parametrize("after", [".", "!", ",", ")."])
def test_url_with_balanced_parentheses_before_punctuation(after: str) -> None:
    url = "https://en.wikipedia.org/wiki/Python_(programming_language)"
    assert [t.value for t in tokenize(f"read {url}{after}") if t.kind == "url"] == [url]


def test_scheme_is_required_for_a_url() -> None:
    assert [t.kind for t in tokenize("www.example.org and ftp://x.org")] == ["text"]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("mail bob@example.org", ["text"]),  # an email address is not a mention
        ("@@bob", ["text"]),
        ("x/@bob", ["text"]),
        ("@bob's cat", ["mention", "text"]),
        ("(@bob)", ["text", "mention", "text"]),
        ("@" + "a" * 30, ["mention"]),
        ("@" + "a" * 31, ["text"]),  # too long to be a username
        ("@", ["text"]),
    ],
)
def test_mention_boundaries(text: str, kinds: list[str]) -> None:
    assert [t.kind for t in tokenize(text)] == kinds


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("#2024", ["text"]),  # a number, not a tag
        ("#2024abc", ["tag"]),
        ("issue#5", ["text"]),
        ("a#b", ["text"]),
        ("##tag", ["text"]),
        ("&#39;", ["text"]),  # an HTML entity someone typed is not a tag
        ("https://x.org/#frag", ["url"]),
        ("x/#tag", ["text"]),
        ("(#tag)", ["text", "tag", "text"]),
        ("#_", ["text"]),
        ("#_a", ["tag"]),
    ],
)
def test_hashtag_boundaries(text: str, kinds: list[str]) -> None:
    assert [t.kind for t in tokenize(text)] == kinds


def test_mention_inside_url_belongs_to_the_url() -> None:
    assert [t.kind for t in tokenize("https://mastodon.social/@bob")] == ["url"]


# --- visible_length ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("", 0),
        ("hello", 5),
        ("héllo", 5),  # precomposed
        ("he\u0301llo", 5),  # e + combining acute accent is one character
        ("a\u0308\u0301", 1),  # two combining marks still one
        ("👍", 1),
        ("👍🏽", 1),  # emoji with a skin-tone modifier
        ("👨\u200d👩\u200d👧\u200d👦", 1),  # ZWJ family emoji
        ("👩🏽\u200d💻", 1),  # ZWJ sequence with a modifier
        ("🇫🇷", 1),  # flag: regional indicator pair
        ("1️⃣", 1),  # keycap
        ("👍🏽👍🏽", 2),
        ("日本語", 3),
        ("\r\n", 1),
    ],
)
def test_visible_length_counts_graphemes(text: str, length: int) -> None:
    assert visible_length(text) == length


@pytest.mark.parametrize(
    "url",
    ["http://x.co", "https://example.org/", "https://example.org/" + "a" * 500],
)
def test_every_url_counts_the_same(url: str) -> None:
    assert visible_length(url) == URL_LENGTH
    assert visible_length(f"see {url} now") == len("see ") + URL_LENGTH + len(" now")


def test_url_length_is_23() -> None:
    assert URL_LENGTH == 23


def test_trailing_punctuation_after_url_counts_normally() -> None:
    assert visible_length("https://example.org/" + "x" * 100 + "!!") == URL_LENGTH + 2


def test_two_urls_count_twice() -> None:
    assert visible_length("https://a.org https://b.org/long/path") == 2 * URL_LENGTH + 1


def test_mentions_and_tags_count_as_written() -> None:
    assert visible_length("@bob #tag") == 9


@given(st.text(alphabet=st.characters(codec="ascii", exclude_characters="\r")))
def test_ascii_without_urls_counts_characters(text: str) -> None:
    if "http" not in text:
        assert visible_length(text) == len(text)


# --- mentioned_usernames ----------------------------------------------------------------------


def test_mentioned_usernames_in_order_once_each() -> None:
    assert mentioned_usernames("@bob hi @Alice and @BOB and @carol_9 and @alice") == [
        "bob",
        "Alice",
        "carol_9",
    ]


def test_mentioned_usernames_skips_emails_and_urls() -> None:
    text = "write to me@example.org or see https://x.org/@dave, thanks @eve."
    assert mentioned_usernames(text) == ["eve"]


def test_no_mentions() -> None:
    assert mentioned_usernames("nobody here") == []


# --- hashtags ---------------------------------------------------------------------------------


def test_hashtags_are_casefolded_and_deduplicated() -> None:
    assert hashtags("#Python #python #PYTHON #rust") == ["python", "rust"]


def test_hashtags_casefold_beyond_lower() -> None:
    # casefold, not lower: ß folds to ss.
    assert hashtags("#Straße #STRASSE") == ["strasse"]


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("#日本語 と #東京", ["日本語", "東京"]),
        ("#Ελλάδα", ["ελλάδα"]),
        ("#café", ["café"]),
        ("#привет_мир", ["привет_мир"]),
        ("#\u0433\u043e\u04342024", ["\u0433\u043e\u04342024"]),
    ],
)
def test_unicode_hashtags(text: str, tags: list[str]) -> None:
    assert hashtags(text) == tags


@pytest.mark.parametrize(
    ("text", "tag"),
    # A decomposed "café" is the same tag as the composed one (normalised to NFC).
    [("#हिन्दी", "हिन्दी"), ("#cafe\u0301", "caf\u00e9"), ("#ไทย์", "ไทย์")],
)
def test_hashtags_with_combining_marks_are_whole(text: str, tag: str) -> None:
    assert hashtags(text) == [tag]


def test_number_is_not_a_hashtag() -> None:
    assert hashtags("#2024 was #1 and #2024goals") == ["2024goals"]


def test_overlong_hashtags_are_ignored() -> None:
    ok = "a" * MAX_TAG_LENGTH
    too_long = "b" * (MAX_TAG_LENGTH + 1)
    assert hashtags(f"#{ok} #{too_long}") == [ok]


def test_normalize_tag() -> None:
    assert normalize_tag("#Python") == "python"
    assert normalize_tag("ÉTÉ") == "été"


# --- render_html ------------------------------------------------------------------------------


def test_render_html_returns_markup() -> None:
    assert isinstance(render_html("x"), Markup)


def test_render_plain_text_is_escaped() -> None:
    assert render_html("<script>alert(1)</script>") == ("&lt;script&gt;alert(1)&lt;/script&gt;")


def test_render_escapes_quotes_and_ampersands() -> None:
    out = str(render_html("Tom & \"Jerry\" 'say' &amp;"))
    assert out == "Tom &amp; &#34;Jerry&#34; &#39;say&#39; &amp;amp;"


def test_render_url() -> None:
    out = str(render_html("see https://x.org/a?b=1&c=<2>."))
    assert out == (
        'see <a href="https://x.org/a?b=1&amp;c=" rel="nofollow noopener" target="_blank">'
        "x.org/a?b=1&amp;c=</a>&lt;2&gt;."
    )


def test_render_url_cannot_break_out_of_the_attribute() -> None:
    out = str(render_html('https://x.org/"onmouseover="alert(1)'))
    assert out.startswith('<a href="https://x.org/" rel="nofollow noopener"')
    assert "&#34;onmouseover=&#34;alert(1)" in out


def test_render_long_url_is_shortened_for_display_only() -> None:
    url = "https://example.org/" + "p" * 100
    out = str(render_html(url))
    assert f'href="{url}"' in out
    shown = re.search(r">([^<]*)</a>", out)
    assert shown is not None
    assert shown.group(1) == ("example.org/" + "p" * 100)[:39] + "…"


def test_render_url_with_balanced_parentheses() -> None:
    url = "https://en.wikipedia.org/wiki/Python_(programming_language)"
    out = str(render_html(f"({url})"))
    assert out.startswith(f'(<a href="{url}" rel="nofollow noopener"')
    assert out.endswith("</a>)")


def test_render_mention() -> None:
    assert str(render_html("hi @Bob_1!")) == 'hi <a class="mention" href="/@Bob_1">@Bob_1</a>!'


def test_render_hashtag_links_to_normalised_quoted_tag() -> None:
    assert str(render_html("#Python")) == '<a class="hashtag" href="/tags/python">#Python</a>'
    assert str(render_html("#Été")) == ('<a class="hashtag" href="/tags/%C3%A9t%C3%A9">#Été</a>')


def test_render_number_is_not_linked() -> None:
    assert str(render_html("#2024")) == "#2024"


def test_render_does_not_double_escape_links_or_text_around_them() -> None:
    out = str(render_html("a<b @x c>d"))
    assert out == 'a&lt;b <a class="mention" href="/@x">@x</a> c&gt;d'


_OUR_TAGS = re.compile(r'<a (?:class="(?:mention|hashtag)" )?href="[^"<>]*"[^<>]*>|</a>')


@given(st.text())
@example("<script>alert('x')</script>")
@example("<a href=x>@bob</a> #<b>")
@example("https://x.org/<img src=x onerror=alert(1)>")
@example("@<b> #<i> https://<u>")
@example("#tag<script>")
def test_render_html_never_lets_raw_angle_brackets_through(text: str) -> None:
    out = str(render_html(text))
    assert "<" not in _OUR_TAGS.sub("", out)
    assert ">" not in _OUR_TAGS.sub("", out)


@given(st.text(alphabet=st.sampled_from(list("<>&\"' @#:/.()ahtps1x_é"))))
def test_render_html_escapes_hostile_alphabets(text: str) -> None:
    out = str(render_html(text))
    stripped = _OUR_TAGS.sub("", out)
    assert "<" not in stripped
    assert ">" not in stripped
    assert '"' not in stripped
    assert "'" not in stripped
    assert len(_OUR_TAGS.findall(out)) % 2 == 0  # every link is closed
