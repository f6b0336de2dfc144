"""Registration, login and logout over HTTP, on every backend."""

from __future__ import annotations

import pytest
from web_support import account_count, is_signed_in

SESSION_COOKIE = "twoorl_session"
TAKEN = "That username is taken."
EMAIL_TAKEN = "An account with that email address already exists."
WRONG_LOGIN = "Wrong username, email or password."


def error_message(response) -> str:
    """The text of the page's form error, so a message is checked where people read it."""
    start = response.text.find('<p class="error" role="alert">')
    assert start >= 0, f"no error shown on the page (status {response.status_code})"
    end = response.text.index("</p>", start)
    return response.text[start + len('<p class="error" role="alert">') : end]


# --- registration -----------------------------------------------------------------------------


async def test_register_signs_in_and_redirects_home(people):
    alice = await people()
    assert not await is_signed_in(alice)

    response = await alice.register("alice")

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert await is_signed_in(alice)
    home = await alice.get("/")
    assert 'href="/@alice"' in home.text


async def test_registered_account_can_log_in_from_another_browser(people, shards):
    await people("alice")
    laptop = await people()

    response = await laptop.login("alice", "correct horse battery")

    assert response.status_code == 303
    assert await is_signed_in(laptop)
    assert await account_count(shards) == 1


async def test_username_of_thirty_characters_is_accepted(people):
    person = await people()
    response = await person.register("a" * 30)
    assert response.status_code == 303
    assert (await person.get("/@" + "a" * 30)).status_code == 200


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("", "Choose a username."),
        ("   ", "Choose a username."),
        ("a" * 31, "A username is 1 to 30 letters, digits or underscores."),
        ("a-b", "A username is 1 to 30 letters, digits or underscores."),
        ("a b", "A username is 1 to 30 letters, digits or underscores."),
        ("al.ice", "A username is 1 to 30 letters, digits or underscores."),
        ("zoë", "A username is 1 to 30 letters, digits or underscores."),
        ("settings", "That username is reserved. Please choose another."),
        ("Settings", "That username is reserved. Please choose another."),
        ("login", "That username is reserved. Please choose another."),
    ],
)
async def test_register_rejects_bad_usernames(people, shards, username, message):
    person = await people()

    response = await person.register(username, email="someone@example.org")

    assert response.status_code == 422
    assert error_message(response) == message
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert not await is_signed_in(person)
    assert await account_count(shards) == 0


async def test_duplicate_username_ignores_case(people, shards):
    await people("alice")
    impostor = await people()

    response = await impostor.register("Alice", email="other@example.org", password="another pw!")

    assert response.status_code == 409
    assert error_message(response) == TAKEN
    assert not await is_signed_in(impostor)
    assert await account_count(shards) == 1
    # The impostor's password opens nothing; the first Alice's still does.
    assert (await impostor.login("Alice", "another pw!")).status_code == 401
    assert (await impostor.login("alice", "correct horse battery")).status_code == 303


async def test_duplicate_email_ignores_case(people, shards):
    await people("alice")  # alice@example.org
    other = await people()

    response = await other.register("alicia", email="ALICE@Example.ORG")

    assert response.status_code == 409
    assert error_message(response) == EMAIL_TAKEN
    assert not await is_signed_in(other)
    assert await account_count(shards) == 1


@pytest.mark.parametrize(
    "email", ["not-an-email", "alice@localhost", "a@@example.org", "al ice@example.org", "@x.org"]
)
async def test_register_rejects_bad_email(people, shards, email):
    person = await people()

    response = await person.register("alice", email=email)

    assert response.status_code == 422
    assert error_message(response) == "Enter a valid email address."
    assert await account_count(shards) == 0


async def test_register_rejects_empty_email(people, shards):
    person = await people()
    response = await person.submit(
        "/register",
        {"username": "alice", "email": "", "password": "correct horse battery"},
        page="/register",
    )
    assert response.status_code == 422
    assert error_message(response) == "Enter a valid email address."
    assert await account_count(shards) == 0


async def test_password_needs_eight_characters(people, shards):
    person = await people()

    short = await person.register("alice", password="seven77")

    assert short.status_code == 422
    assert error_message(short) == "A password needs at least 8 characters."
    assert await account_count(shards) == 0
    assert not await is_signed_in(person)

    exactly_eight = await person.register("alice", password="eight888")
    assert exactly_eight.status_code == 303
    assert await account_count(shards) == 1


async def test_password_of_more_than_1024_characters_is_refused(people, shards):
    person = await people()

    too_long = await person.register("alice", password="p" * 1025)

    assert too_long.status_code == 422
    assert error_message(too_long) == "That password is too long."
    assert await account_count(shards) == 0
    assert (await person.register("alice", password="p" * 1024)).status_code == 303
    browser = await people()
    assert (await browser.login("alice", "p" * 1024)).status_code == 303


async def test_form_keeps_typed_values_but_not_the_password(people):
    person = await people()
    secret = "Sup3r-secret-passphrase"

    response = await person.register("Bob_1", email="Bob@Example", password=secret)

    assert response.status_code == 422
    assert error_message(response) == "Enter a valid email address."
    assert 'name="username" value="Bob_1"' in response.text
    assert 'name="email" type="email" value="Bob@Example"' in response.text
    assert secret not in response.text


async def test_form_keeps_values_after_a_conflict(people):
    await people("alice")
    person = await people()
    secret = "Another-secret-passphrase"

    response = await person.register("ALICE", email="fresh@example.org", password=secret)

    assert response.status_code == 409
    assert 'value="ALICE"' in response.text
    assert 'value="fresh@example.org"' in response.text
    assert secret not in response.text


async def test_register_page_redirects_when_signed_in(people):
    alice = await people("alice")
    response = await alice.get("/register")
    assert response.status_code == 303
    assert response.headers["location"] == "/"

    visitor = await people()
    page = await visitor.get("/register")
    assert page.status_code == 200
    assert 'action="/register"' in page.text


# --- login ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "login",
    ["alice", "Alice", "@alice", "@Alice", "  alice  ", "alice@example.org", "ALICE@EXAMPLE.ORG"],
)
async def test_login_by_username_email_or_handle(people, login):
    await people("alice")
    browser = await people()

    response = await browser.login(login, "correct horse battery")

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert await is_signed_in(browser)
    home = await browser.get("/")
    assert 'href="/@alice"' in home.text


async def test_wrong_password_is_refused(people):
    await people("alice")
    browser = await people()

    response = await browser.login("alice", "not the password")

    assert response.status_code == 401
    assert error_message(response) == WRONG_LOGIN
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert not await is_signed_in(browser)
    # The login is kept in the form; the password is not.
    assert 'name="login" value="alice"' in response.text
    assert "not the password" not in response.text


async def test_password_is_case_sensitive(people):
    await people("alice")
    browser = await people()
    response = await browser.login("alice", "CORRECT HORSE BATTERY")
    assert response.status_code == 401
    assert not await is_signed_in(browser)


@pytest.mark.parametrize("login", ["bob", "bob@example.org", "@bob", ""])
async def test_unknown_login_gets_the_same_message(people, login):
    await people("alice")
    browser = await people()

    response = await browser.login(login, "correct horse battery")

    assert response.status_code == 401
    assert error_message(response) == WRONG_LOGIN
    assert not await is_signed_in(browser)


async def test_one_persons_password_does_not_open_another_account(people):
    await people("alice")
    bob = await people()
    await bob.register("bob", password="bobs own password")
    browser = await people()

    assert (await browser.login("alice", "bobs own password")).status_code == 401
    assert (await browser.login("bob", "correct horse battery")).status_code == 401
    assert not await is_signed_in(browser)


@pytest.mark.parametrize("next_path", ["/settings", "/@alice", "/mentions?max_id=5", "/tags/x"])
async def test_login_follows_a_local_next(people, next_path):
    await people("alice")
    browser = await people()

    response = await browser.submit(
        "/login",
        {"login": "alice", "password": "correct horse battery", "next": next_path},
    )

    assert response.status_code == 303
    assert response.headers["location"] == next_path
    assert await is_signed_in(browser)


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.example",
        "//evil.example/settings",
        "https://evil.example",
        "https://evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "evil.example",
        "javascript:alert(1)",
    ],
)
async def test_login_ignores_a_foreign_next(people, next_path):
    await people("alice")
    browser = await people()

    response = await browser.submit(
        "/login",
        {"login": "alice", "password": "correct horse battery", "next": next_path},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert await is_signed_in(browser)


@pytest.mark.parametrize("next_path", ["//evil.example", "https://evil.example"])
async def test_login_form_does_not_carry_a_foreign_next(people, next_path):
    browser = await people()
    page = await browser.get("/login", params={"next": next_path})
    assert page.status_code == 200
    assert 'name="next" value="/"' in page.text
    assert "evil.example" not in page.text


async def test_login_form_carries_a_local_next(people):
    browser = await people()
    page = await browser.get("/login", params={"next": "/settings"})
    assert 'name="next" value="/settings"' in page.text


async def test_login_page_redirects_when_already_signed_in(people):
    alice = await people("alice")
    response = await alice.get("/login", params={"next": "/settings"})
    assert response.status_code == 303
    assert response.headers["location"] == "/settings"

    response = await alice.get("/login", params={"next": "//evil.example"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_wrong_login_keeps_next(people):
    await people("alice")
    browser = await people()
    response = await browser.submit(
        "/login", {"login": "alice", "password": "nope nope nope", "next": "/settings"}
    )
    assert response.status_code == 401
    assert 'name="next" value="/settings"' in response.text


# --- logout -----------------------------------------------------------------------------------


async def test_logout_ends_the_session_for_good(people):
    alice = await people("alice")
    old_token = alice.client.cookies.get(SESSION_COOKIE)
    assert old_token

    response = await alice.submit("/logout", page="/")

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert not await is_signed_in(alice)

    # Someone who copied the cookie before logout cannot use it afterwards.
    thief = await people()
    thief.client.cookies.set(SESSION_COOKIE, old_token)
    assert not await is_signed_in(thief)


async def test_logout_leaves_other_sessions_alone(people):
    alice = await people("alice")
    laptop = await people()
    assert (await laptop.login("alice")).status_code == 303

    assert (await alice.submit("/logout", page="/")).status_code == 303

    assert not await is_signed_in(alice)
    assert await is_signed_in(laptop)


async def test_log_in_again_after_logout(people):
    alice = await people("alice")
    await alice.submit("/logout", page="/")
    assert not await is_signed_in(alice)

    assert (await alice.login("alice")).status_code == 303
    assert await is_signed_in(alice)


async def test_logout_is_post_only(people):
    alice = await people("alice")
    response = await alice.get("/logout")
    assert response.status_code == 405
    assert await is_signed_in(alice)


async def test_a_forged_session_cookie_is_anonymous(people):
    await people("alice")
    forger = await people()
    forger.client.cookies.set(SESSION_COOKIE, "made-up-token")
    assert not await is_signed_in(forger)
