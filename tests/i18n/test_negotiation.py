from __future__ import annotations

import pytest

from twoorl.i18n.negotiation import choose_locale, from_accept_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("fr-CA", "fr"),
        ("pt", "pt_BR"),
        ("pt-PT,en;q=0.5", "pt_BR"),
        ("zh-CN,zh;q=0.9", "zh_Hans"),
        ("zh-Hans", "zh_Hans"),
        ("zh-TW", None),
        ("ja,ko;q=0.5", "ko"),
        ("en;q=0.2,ru;q=0.9", "ru"),
        ("xx-YY, *", None),
        ("el;q=abc,sv", "sv"),
        ("", None),
        ("da;q=0", None),
    ],
)
def test_accept_language(header: str, expected: str | None) -> None:
    assert from_accept_language(header) == expected


def test_setting_beats_cookie_beats_header_beats_default() -> None:
    assert choose_locale(account_locale="ko", cookie="ru", accept_language="de") == "ko"
    assert choose_locale(account_locale=None, cookie="ru", accept_language="de") == "ru"
    assert choose_locale(account_locale=None, cookie=None, accept_language="de") == "de"
    assert choose_locale(account_locale=None, cookie=None, accept_language=None) == "en"
    assert choose_locale(account_locale=None, cookie="bogus", accept_language="el") == "el"
