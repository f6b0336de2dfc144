"""The settings pages over HTTP: profile, email and password, sessions; on every backend."""

from __future__ import annotations

import hashlib
import re

import pytest
from web_support import is_signed_in

from twoorl.i18n import translations_for

SESSION_COOKIE = "twoorl_session"
PASSWORD = "correct horse battery"
EMAIL_TAKEN = "An account with that email address already exists."
AVATAR_RE = re.compile(r'<img class="profile-avatar" src="([^"]+)"')
SESSION_ROW_RE = re.compile(r"<li>(.*?)</li>", re.S)
REVOKE_RE = re.compile(r'name="session" value="([0-9a-f]{64})"')


def form_error(response) -> str:
    match = re.search(r'<p class="error" role="alert">(.*?)</p>', response.text)
    assert match, f"no form error on the page (status {response.status_code})"
    return match.group(1)


async def save_profile(person, **fields: str):
    data = {"display_name": "", "bio": "", "locale": "", "profile_color": "#1d9bf0"}
    data.update(fields)
    return await person.submit("/settings/profile", data, page="/settings")


async def save_account(person, **fields: str):
    return await person.submit("/settings/account", fields, page="/settings")


async def profile_avatar(person, username: str) -> str:
    page = await person.get(f"/@{username}")
    assert page.status_code == 200
    match = AVATAR_RE.search(page.text)
    assert match, "no avatar on the profile"
    return match.group(1)


def session_rows(settings_html: str) -> list[str]:
    start = settings_html.index('<ul class="sessions">')
    end = settings_html.index("</ul>", start)
    return SESSION_ROW_RE.findall(settings_html[start:end])


def token_hash(person) -> str:
    token = person.client.cookies.get(SESSION_COOKIE)
    assert token
    return hashlib.sha256(token.encode()).hexdigest()


async def second_browser(people, username: str, password: str = PASSWORD):
    browser = await people()
    response = await browser.login(username, password)
    assert response.status_code == 303
    return browser


# --- profile ----------------------------------------------------------------------------------


async def test_profile_save_shows_on_the_profile(people):
    alice = await people("alice")

    response = await save_profile(
        alice,
        display_name="Alice Liddell",
        bio="I like <b>html</b> & rabbits",
        profile_color="#ABCDEF",
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/settings?done=saved"
    settings = await alice.get(response.headers["location"])
    assert '<p class="notice" role="status">Your changes are saved.</p>' in settings.text
    assert 'name="display_name" value="Alice Liddell"' in settings.text

    visitor = await people()
    profile = await visitor.get("/@alice")
    assert "<h1>Alice Liddell <span" in profile.text
    assert "I like &lt;b&gt;html&lt;/b&gt; &amp; rabbits" in profile.text
    assert "<b>html</b>" not in profile.text
    assert "--profile-color: #abcdef" in profile.text


async def test_display_name_is_shown_on_posts(people):
    alice = await people("alice")
    assert (await save_profile(alice, display_name="Queen of Hearts")).status_code == 303
    assert (
        await alice.submit("/posts", {"status": "off with her head"}, page="/")
    ).status_code == 303

    public = await (await people()).get("/public")

    assert "<strong>Queen of Hearts</strong>" in public.text


async def test_markup_in_the_display_name_is_escaped(people):
    alice = await people("alice")
    assert (await save_profile(alice, display_name="<i>Alice</i>")).status_code == 303
    await alice.submit("/posts", {"status": "hello"}, page="/")

    for path in ("/@alice", "/public"):
        page = await (await people()).get(path)
        assert "<i>Alice</i>" not in page.text
        assert "&lt;i&gt;Alice&lt;/i&gt;" in page.text


async def test_display_name_spaces_are_collapsed(people):
    alice = await people("alice")
    assert (await save_profile(alice, display_name="  Alice   in\tWonderland ")).status_code == 303
    profile = await alice.get("/@alice")
    assert "<h1>Alice in Wonderland <span" in profile.text


async def test_empty_display_name_falls_back_to_username(people):
    alice = await people("alice")
    await save_profile(alice, display_name="Someone")
    assert (await save_profile(alice, display_name="")).status_code == 303
    profile = await alice.get("/@alice")
    assert "<h1>alice <span" in profile.text


async def test_local_avatar_by_default(people):
    alice = await people("alice")

    src = await profile_avatar(alice, "alice")

    match = re.fullmatch(r"/avatars/(\d+)\.svg", src)
    assert match, src
    avatar = await alice.get(src)
    assert avatar.status_code == 200
    assert avatar.headers["content-type"].startswith("image/svg+xml")
    assert avatar.text.startswith("<svg")
    assert f'aria-label="{match.group(1)}"' in avatar.text


async def test_gravatar_toggle_changes_the_avatar(people):
    alice = await people("alice")
    local = await profile_avatar(alice, "alice")

    response = await save_profile(alice, use_gravatar="1")

    assert response.status_code == 303
    src = await profile_avatar(alice, "alice")
    digest = hashlib.sha256(b"alice@example.org").hexdigest()
    assert src.startswith(f"https://www.gravatar.com/avatar/{digest}?")
    settings = await alice.get("/settings")
    assert 'name="use_gravatar" value="1" checked' in settings.text

    # Leaving the box unticked turns it off again.
    assert (await save_profile(alice)).status_code == 303
    assert await profile_avatar(alice, "alice") == local
    settings = await alice.get("/settings")
    assert 'name="use_gravatar" value="1" checked' not in settings.text


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#GGGGGG", "1d9bf0", "#1d9bf0;x"])
async def test_bad_colour_is_refused(people, colour):
    alice = await people("alice")
    await save_profile(alice, display_name="Before", profile_color="#112233")

    response = await save_profile(alice, display_name="After", profile_color=colour)

    assert response.status_code == 422
    assert form_error(response) == "Pick a colour like #1d9bf0."
    # What was typed stays in the form...
    assert 'name="display_name" value="After"' in response.text
    # ...but nothing was saved.
    profile = await alice.get("/@alice")
    assert "--profile-color: #112233" in profile.text
    assert "<h1>Before <span" in profile.text


async def test_display_name_of_fifty_characters_is_the_limit(people):
    alice = await people("alice")

    assert (await save_profile(alice, display_name="x" * 50)).status_code == 303
    response = await save_profile(alice, display_name="y" * 51)

    assert response.status_code == 422
    assert form_error(response) == "A display name has at most 50 characters."
    profile = await alice.get("/@alice")
    assert f"<h1>{'x' * 50} <span" in profile.text
    assert "y" * 51 not in profile.text


async def test_bio_of_more_than_300_characters_is_refused(people):
    alice = await people("alice")

    response = await save_profile(alice, bio="b" * 301)

    assert response.status_code == 422
    assert form_error(response) == "A bio has at most 300 characters."
    assert "b" * 301 not in (await alice.get("/@alice")).text
    assert (await save_profile(alice, bio="b" * 300)).status_code == 303
    assert "b" * 300 in (await alice.get("/@alice")).text


async def test_locale_is_saved_from_the_list(people):
    alice = await people("alice")

    response = await save_profile(alice, locale="pt_BR")

    assert response.status_code == 303
    settings = await alice.get("/settings")
    assert '<option value="pt_BR" selected>' in settings.text
    assert settings.text.split("<footer")[0].count(" selected>") == 1


@pytest.mark.parametrize("locale", ["xx", "EN", "en_US", "klingon", "pt-BR"])
async def test_bogus_locale_is_refused(people, locale):
    alice = await people("alice")
    await save_profile(alice, locale="de")

    response = await save_profile(alice, locale=locale, display_name="Changed")

    assert response.status_code == 422
    # Alice reads German now, so the refusal is in German.
    assert form_error(response) == translations_for("de").gettext(
        "Choose a language from the list."
    )
    assert form_error(response) != "Choose a language from the list."
    settings = await alice.get("/settings")
    assert '<option value="de" selected>' in settings.text
    assert "Changed" not in settings.text


async def test_one_persons_profile_save_does_not_touch_another(people):
    alice = await people("alice")
    bob = await people("bob")
    await save_profile(bob, display_name="Bobby", bio="bob's bio")

    await save_profile(alice, display_name="Alice", bio="alice's bio")

    bob_profile = await alice.get("/@bob")
    assert "<h1>Bobby <span" in bob_profile.text
    assert "bob&#39;s bio" in bob_profile.text


# --- email and password -----------------------------------------------------------------------


async def test_wrong_current_password_changes_nothing(people):
    alice = await people("alice")

    response = await save_account(
        alice,
        current_password="not my password",
        email="new@example.org",
        new_password="brand new password",
    )

    assert response.status_code == 422
    assert form_error(response) == "Your current password is not right."
    browser = await people()
    assert (await browser.login("alice", "brand new password")).status_code == 401
    assert (await browser.login("new@example.org", PASSWORD)).status_code == 401
    assert (await browser.login("alice@example.org", PASSWORD)).status_code == 303


async def test_change_password(people):
    alice = await people("alice")
    laptop = await second_browser(people, "alice")

    response = await save_account(
        alice, current_password=PASSWORD, email="alice@example.org", new_password="a new secret!"
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/settings?done=account"
    settings = await alice.get("/settings?done=account")
    assert settings.status_code == 200
    assert "Your account is updated." in settings.text
    # This browser stays signed in; the other one is signed out.
    assert await is_signed_in(alice)
    assert not await is_signed_in(laptop)
    assert len(session_rows(settings.text)) == 1
    # The old password no longer works; the new one does.
    browser = await people()
    old = await browser.login("alice", PASSWORD)
    assert old.status_code == 401
    assert form_error(old) == "Wrong username, email or password."
    assert (await browser.login("alice", "a new secret!")).status_code == 303


async def test_new_password_must_be_long_enough(people):
    alice = await people("alice")

    response = await save_account(alice, current_password=PASSWORD, new_password="short")

    assert response.status_code == 422
    assert form_error(response) == "A password needs at least 8 characters."
    browser = await people()
    assert (await browser.login("alice", "short")).status_code == 401
    assert (await browser.login("alice", PASSWORD)).status_code == 303


async def test_change_email(people):
    alice = await people("alice")
    laptop = await second_browser(people, "alice")

    response = await save_account(alice, current_password=PASSWORD, email="Alice@New.example")

    assert response.status_code == 303
    settings = await alice.get("/settings")
    assert 'value="Alice@New.example"' in settings.text
    # Changing only the email does not sign out other browsers.
    assert await is_signed_in(laptop)
    browser = await people()
    assert (await browser.login("alice@example.org", PASSWORD)).status_code == 401
    assert (await browser.login("alice@new.example", PASSWORD)).status_code == 303


async def test_email_change_needs_the_current_password(people):
    alice = await people("alice")
    response = await save_account(alice, current_password="", email="other@example.org")
    assert response.status_code == 422
    assert form_error(response) == "Your current password is not right."
    browser = await people()
    assert (await browser.login("other@example.org", PASSWORD)).status_code == 401


@pytest.mark.parametrize("email", ["bob@example.org", "BOB@Example.Org"])
async def test_email_change_to_one_in_use_is_a_conflict(people, email):
    alice = await people("alice")
    await people("bob")

    response = await save_account(alice, current_password=PASSWORD, email=email)

    assert response.status_code == 409
    assert form_error(response) == EMAIL_TAKEN
    browser = await people()
    assert (await browser.login("alice@example.org", PASSWORD)).status_code == 303
    other = await people()
    assert (await other.login("bob@example.org", PASSWORD)).status_code == 303
    assert 'href="/@bob"' in (await other.get("/")).text


async def test_email_change_to_a_bad_address_is_refused(people):
    alice = await people("alice")
    response = await save_account(alice, current_password=PASSWORD, email="nowhere")
    assert response.status_code == 422
    assert form_error(response) == "Enter a valid email address."
    browser = await people()
    assert (await browser.login("alice@example.org", PASSWORD)).status_code == 303


# --- sessions ---------------------------------------------------------------------------------


async def test_sessions_list_shows_each_browser(people):
    alice = await people("alice")
    settings = await alice.get("/settings")
    assert len(session_rows(settings.text)) == 1

    laptop = await second_browser(people, "alice")

    rows = session_rows((await alice.get("/settings")).text)
    assert len(rows) == 2
    assert sum("This browser" in row for row in rows) == 1
    revocable = [REVOKE_RE.search(row).group(1) for row in rows if "This browser" not in row]
    assert revocable == [token_hash(laptop)]
    # From the laptop, it is the other way round.
    rows = session_rows((await laptop.get("/settings")).text)
    assert [REVOKE_RE.search(r).group(1) for r in rows if "This browser" not in r] == [
        token_hash(alice)
    ]


async def test_revoking_the_other_session_signs_it_out(people):
    alice = await people("alice")
    laptop = await second_browser(people, "alice")
    other = REVOKE_RE.search((await alice.get("/settings")).text).group(1)

    response = await alice.submit("/settings/sessions/revoke", {"session": other}, page="/settings")

    assert response.status_code == 303
    assert response.headers["location"] == "/settings"
    assert not await is_signed_in(laptop)
    assert await is_signed_in(alice)
    assert len(session_rows((await alice.get("/settings")).text)) == 1


async def test_cannot_revoke_someone_elses_session(people):
    alice = await people("alice")
    bob = await people("bob")
    bobs_session = token_hash(bob)

    response = await alice.submit(
        "/settings/sessions/revoke", {"session": bobs_session}, page="/settings"
    )

    assert response.status_code == 303
    assert await is_signed_in(bob)
    assert await is_signed_in(alice)
    rows = session_rows((await bob.get("/settings")).text)
    assert len(rows) == 1
    assert "This browser" in rows[0]


async def test_revoking_an_unknown_session_changes_nothing(people):
    alice = await people("alice")
    laptop = await second_browser(people, "alice")

    response = await alice.submit(
        "/settings/sessions/revoke", {"session": "0" * 64}, page="/settings"
    )

    assert response.status_code == 303
    assert await is_signed_in(laptop)
    assert len(session_rows((await alice.get("/settings")).text)) == 2


async def test_revoking_needs_the_csrf_token(people):
    alice = await people("alice")
    laptop = await second_browser(people, "alice")

    response = await alice.client.post(
        "/settings/sessions/revoke", data={"session": token_hash(laptop), "csrf_token": "x"}
    )

    assert response.status_code == 403
    assert await is_signed_in(laptop)


async def test_account_change_needs_the_csrf_token(people):
    alice = await people("alice")
    await alice.get("/settings")

    response = await alice.client.post(
        "/settings/account",
        data={"current_password": PASSWORD, "new_password": "hijacked password"},
    )

    assert response.status_code == 403
    browser = await people()
    assert (await browser.login("alice", "hijacked password")).status_code == 401
    assert (await browser.login("alice", PASSWORD)).status_code == 303
