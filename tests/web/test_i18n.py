"""Every page speaks every language, chosen as people expect."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from markupsafe import escape
from web_support import send

from twoorl.i18n import LOCALES, translations_for

TRANSLATED = [code for code in LOCALES if code != "en"]
HTML_LANG = re.compile(r'<html lang="([^"]+)">')


@pytest.fixture
def shard_urls(sqlite_templates: Path, tmp_path: Path) -> list[str]:
    """One SQLite database: this module multiplies pages by locales, not by backends."""
    shutil.copy(sqlite_templates / "s0.db", tmp_path / "s0.db")
    return [f"sqlite+aiosqlite:///{tmp_path}/s0.db"]


def said(locale: str, english: str) -> str:
    return translations_for(locale).gettext(english)


def fragment(text: str) -> str:
    """The longest literal part of a message (placeholders like %(who)s cut out), as it
    appears in HTML."""
    parts = re.split(r"%\(\w+\)[sd]|\{n\}", text)
    return str(escape(max((p.strip() for p in parts), key=len)))


def assert_speaks(page: str, locale: str, english: str) -> None:
    """The page carries ``english`` in ``locale`` and not in English."""
    translated = said(locale, english)
    assert translated != english, f"{locale} has no own words for {english!r}"
    assert fragment(translated) in page, f"{locale}: {translated!r} missing"
    assert fragment(english) not in page, f"{locale}: English {english!r} left on the page"
    assert HTML_LANG.search(page).group(1) == locale.replace("_", "-")


async def choose(person, locale: str):
    """The footer's language chooser, on every page, signed in or not."""
    return await person.submit("/language", {"locale": locale, "next": "/"}, page="/public")


@pytest.mark.parametrize("locale", TRANSLATED)
async def test_signed_in_pages(people, locale: str) -> None:
    alice, bob = await people("alice"), await people("bob")
    await send(bob, "/@alice/follow")
    await alice.post("Hallo #welt @bob")
    assert (await choose(alice, locale)).status_code == 303
    home = await alice.get("/")
    assert_speaks(home.text, locale, "What are you doing?")
    post_id = re.search(r'data-post-id="(\d+)"', home.text).group(1)
    pages = {
        "/public": "What everyone is saying",
        "/@alice": "Edit profile",
        f"/@alice/{post_id}": "Conversation",
        "/@alice/followers": "People following @%(username)s",
        "/mentions": "Posts that mention you",
        "/notifications": "%(who)s followed you",
        "/settings": "Email and password",
        "/tags/welt": "Posts tagged #%(tag)s",
        "/@nobody": "Back to the home page",
    }
    for path, english in pages.items():
        response = await alice.get(path)
        assert response.status_code in (200, 404), path
        assert_speaks(response.text, locale, english)


@pytest.mark.parametrize("locale", TRANSLATED)
async def test_signed_out_pages_follow_the_cookie(people, locale: str) -> None:
    visitor = await people()
    response = await choose(visitor, locale)
    assert response.status_code == 303
    for path, english in {"/login": "Username or email", "/register": "Create your account",
                          "/public": "What everyone is saying"}.items():  # fmt: skip
        assert_speaks((await visitor.get(path)).text, locale, english)


async def test_form_errors_are_in_the_persons_language(people) -> None:
    visitor = await people()
    await choose(visitor, "de")
    response = await visitor.submit(
        "/register", {"username": "a-b", "email": "x@example.org", "password": "long enough"}
    )
    assert response.status_code == 422
    assert_speaks(response.text, "de", "A username is 1 to 30 letters, digits or underscores.")


async def test_setting_beats_cookie_beats_browser(people) -> None:
    alice = await people("alice")
    alice.client.headers["Accept-Language"] = "fr-FR,fr;q=0.9"
    assert HTML_LANG.search((await alice.get("/")).text).group(1) == "fr"
    alice.client.cookies.set("lang", "ru")
    assert HTML_LANG.search((await alice.get("/")).text).group(1) == "ru"
    await choose(alice, "ko")  # signed in: the chooser changes the setting
    alice.client.cookies.set("lang", "el")
    assert HTML_LANG.search((await alice.get("/")).text).group(1) == "ko"


async def test_browser_language_and_default(people) -> None:
    visitor = await people()
    assert HTML_LANG.search((await visitor.get("/public")).text).group(1) == "en"
    visitor.client.headers["Accept-Language"] = "sv-SE,sv;q=0.9,en;q=0.5"
    assert_speaks((await visitor.get("/public")).text, "sv", "What everyone is saying")


async def test_unknown_language_is_refused(people) -> None:
    visitor = await people()
    response = await choose(visitor, "xx")
    assert response.status_code == 422
