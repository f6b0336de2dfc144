"""Login-required pages, CSRF, rate limits and error pages, over HTTP on every backend."""

from __future__ import annotations

import re

import httpx
import pytest
from web_support import account_count, is_signed_in

SESSION_COOKIE = "twoorl_session"
CSRF_COOKIE = "twoorl_csrf"
EXPIRED = "This form has expired or did not come from this site. Reload the page and try again."
TOO_MANY = "Too many attempts. Please wait a few minutes and try again."
POST_ID_RE = re.compile(r'data-post-id="(\d+)"')


async def public_post_ids(person) -> list[str]:
    page = await person.get("/public")
    assert page.status_code == 200
    return POST_ID_RE.findall(page.text)


def error_page_message(response) -> str:
    match = re.search(
        r'<section class="error-page">\s*<h1>(\d+)</h1>\s*<p>(.*?)</p>', response.text
    )
    assert match, f"not an error page: {response.status_code} {response.text[:300]}"
    assert int(match.group(1)) == response.status_code
    return match.group(2)


def form_error(response) -> str:
    match = re.search(r'<p class="error" role="alert">(.*?)</p>', response.text)
    assert match, f"no form error on the page (status {response.status_code})"
    return match.group(1)


# --- login required ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/settings", "/mentions"])
async def test_private_pages_send_anonymous_visitors_to_login(people, path):
    visitor = await people()

    response = await visitor.get(path)

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


@pytest.mark.parametrize("path", ["/settings", "/mentions"])
async def test_login_from_the_redirect_comes_back(people, path):
    await people("alice")
    visitor = await people()

    login_url = (await visitor.get(path)).headers["location"]
    form = await visitor.get(login_url)
    assert f'name="next" value="{path}"' in form.text
    response = await visitor.submit(
        "/login", {"login": "alice", "password": "correct horse battery", "next": path}
    )

    assert response.status_code == 303
    assert response.headers["location"] == path
    assert await is_signed_in(visitor)


async def test_mentions_page_works_before_anyone_mentions_you(people):
    alice = await people("alice")

    response = await alice.get("/mentions")

    assert response.status_code == 200
    assert "Nobody has mentioned you yet." in response.text


async def test_anonymous_post_is_sent_to_login_and_nothing_is_posted(people):
    await people("alice")
    visitor = await people()

    response = await visitor.submit("/posts", {"status": "anonymous words"})

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert await public_post_ids(visitor) == []
    assert "anonymous words" not in (await visitor.get("/public")).text


async def test_login_after_anonymous_post_does_not_land_on_an_error(people):
    await people("alice")
    visitor = await people()

    login_url = (await visitor.submit("/posts", {"status": "hi"})).headers["location"]
    form = await visitor.get(login_url)
    next_path = re.search(r'name="next" value="([^"]*)"', form.text).group(1)
    response = await visitor.submit(
        "/login", {"login": "alice", "password": "correct horse battery", "next": next_path}
    )
    landing = await visitor.get(response.headers["location"])

    assert landing.status_code == 200


async def test_anonymous_profile_save_is_sent_to_login(people):
    visitor = await people()
    response = await visitor.submit("/settings/profile", {"display_name": "Nobody"})
    assert response.status_code == 303
    # A form action is no page to return to: after login the person lands on home.
    assert response.headers["location"] == "/login?next=/"


# --- CSRF -------------------------------------------------------------------------------------

BAD_TOKENS = ["missing", "empty", "wrong", "cookie-seed", "other-browser"]


async def bad_token(kind: str, person, people) -> dict[str, str]:
    """Form fields carrying a token that must not pass for ``person``'s browser."""
    await person.csrf("/register" if not await is_signed_in(person) else "/")
    assert person.client.cookies.get(CSRF_COOKIE), "the browser should hold a CSRF cookie"
    if kind == "missing":
        return {}
    if kind == "empty":
        return {"csrf_token": ""}
    if kind == "wrong":
        return {"csrf_token": "0" * 64}
    if kind == "cookie-seed":
        # The raw cookie value is not the form token: the token is an HMAC of it.
        return {"csrf_token": person.client.cookies.get(CSRF_COOKIE)}
    stranger = await people()
    token = await stranger.csrf("/register")
    assert token != await person.csrf("/register" if not await is_signed_in(person) else "/")
    return {"csrf_token": token}


def assert_expired(response) -> None:
    assert response.status_code == 403
    assert error_page_message(response) == EXPIRED


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_register_needs_the_csrf_token(people, shards, kind):
    person = await people()
    fields = await bad_token(kind, person, people)

    response = await person.client.post(
        "/register",
        data={
            **fields,
            "username": "alice",
            "email": "alice@example.org",
            "password": "correct horse battery",
        },
    )

    assert_expired(response)
    assert await account_count(shards) == 0
    assert (await person.get("/@alice")).status_code == 404
    assert not await is_signed_in(person)
    # The same form with the right token works.
    assert (await person.register("alice")).status_code == 303


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_login_needs_the_csrf_token(people, kind):
    await people("alice")
    person = await people()
    fields = await bad_token(kind, person, people)

    response = await person.client.post(
        "/login", data={**fields, "login": "alice", "password": "correct horse battery"}
    )

    assert_expired(response)
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert not await is_signed_in(person)
    assert (await person.login("alice")).status_code == 303


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_posting_needs_the_csrf_token(people, kind):
    alice = await people("alice")
    fields = await bad_token(kind, alice, people)

    response = await alice.client.post("/posts", data={**fields, "status": "forged words"})

    assert_expired(response)
    assert await public_post_ids(alice) == []
    profile = await alice.get("/@alice")
    assert "forged words" not in profile.text
    # With the right token the post goes through.
    assert (await alice.submit("/posts", {"status": "real words"}, page="/")).status_code == 303
    assert len(await public_post_ids(alice)) == 1


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_logout_needs_the_csrf_token(people, kind):
    alice = await people("alice")
    fields = await bad_token(kind, alice, people)

    response = await alice.client.post("/logout", data=fields)

    assert_expired(response)
    assert await is_signed_in(alice)


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_profile_save_needs_the_csrf_token(people, kind):
    alice = await people("alice")
    fields = await bad_token(kind, alice, people)

    response = await alice.client.post(
        "/settings/profile",
        data={**fields, "display_name": "Hacked", "bio": "pwned", "profile_color": "#000000"},
    )

    assert_expired(response)
    settings = await alice.get("/settings")
    assert "Hacked" not in settings.text
    assert "pwned" not in settings.text
    profile = await alice.get("/@alice")
    assert "Hacked" not in profile.text
    assert "--profile-color: #1d9bf0" in profile.text


async def test_a_browser_without_a_csrf_cookie_cannot_post(people, shards):
    """A cross-site form posts with a token copied from the attacker's own page."""
    attacker = await people()
    token = await attacker.csrf("/register")
    victim = await people()
    assert victim.client.cookies.get(CSRF_COOKIE) is None

    response = await victim.client.post(
        "/register",
        data={
            "csrf_token": token,
            "username": "alice",
            "email": "alice@example.org",
            "password": "correct horse battery",
        },
    )

    assert_expired(response)
    assert await account_count(shards) == 0


async def test_csrf_cookie_is_http_only_and_same_site(people):
    visitor = await people()
    response = await visitor.get("/login")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    # The cookie is minted once; later pages reuse it and show the same token.
    assert (await visitor.csrf("/login")) == (await visitor.csrf("/register"))
    assert "set-cookie" not in (await visitor.get("/login")).headers


# --- rate limits ------------------------------------------------------------------------------


class TestLoginRateLimit:
    @pytest.fixture
    def settings_overrides(self):
        return {"rate_limit_login": "3/minute"}

    async def test_fourth_attempt_is_refused_even_with_the_right_password(self, people):
        await people("alice")
        browser = await people()

        assert (await browser.login("alice", "wrong password 1")).status_code == 401
        assert (await browser.login("alice", "wrong password 2")).status_code == 401
        assert (await browser.login("alice", "wrong password 3")).status_code == 401
        response = await browser.login("alice", "correct horse battery")

        assert response.status_code == 429
        assert form_error(response) == TOO_MANY
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
        assert not await is_signed_in(browser)

    async def test_the_limit_is_per_address_not_per_browser(self, people, app):
        await people("alice")
        for _ in range(3):
            browser = await people()
            assert (await browser.login("alice", "correct horse battery")).status_code == 303

        fresh_browser = await people()
        response = await fresh_browser.login("alice", "correct horse battery")
        assert response.status_code == 429
        assert form_error(response) == TOO_MANY

        # Someone on another address is not held back by those attempts.
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 4242)),
            base_url="http://testserver",
        ) as elsewhere:
            page = await elsewhere.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            response = await elsewhere.post(
                "/login",
                data={"csrf_token": token, "login": "alice", "password": "correct horse battery"},
            )
            assert response.status_code == 303
            assert (await elsewhere.get("/settings")).status_code == 200

    async def test_login_limit_does_not_block_registration(self, people):
        await people("alice")
        browser = await people()
        for _ in range(4):
            await browser.login("alice", "wrong password")
        assert (await browser.login("alice")).status_code == 429

        assert (await browser.register("bob")).status_code == 303
        assert await is_signed_in(browser)


class TestRegisterRateLimit:
    @pytest.fixture
    def settings_overrides(self):
        return {"rate_limit_register": "2/minute"}

    async def test_third_registration_is_refused(self, people, shards):
        await people("alice")
        await people("bob")
        carol = await people()

        response = await carol.register("carol")

        assert response.status_code == 429
        assert form_error(response) == TOO_MANY
        assert 'value="carol"' in response.text
        assert await account_count(shards) == 2
        assert not await is_signed_in(carol)
        assert (await carol.get("/@carol")).status_code == 404

    async def test_logins_still_work_when_registration_is_limited(self, people):
        await people("alice")
        await people("bob")
        browser = await people()
        assert (await browser.register("carol")).status_code == 429

        assert (await browser.login("alice")).status_code == 303
        assert await is_signed_in(browser)


# --- error pages ------------------------------------------------------------------------------


async def test_unknown_profile_is_a_404_page(people):
    visitor = await people()

    response = await visitor.get("/@nobody")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert error_page_message(response) == "There is nobody called @nobody here."
    assert 'href="/"' in response.text


async def test_unknown_profile_subpages_are_404(people):
    visitor = await people()
    for path in ("/@nobody/followers", "/@nobody/following"):
        response = await visitor.get(path)
        assert response.status_code == 404
        assert error_page_message(response) == "There is nobody called @nobody here."


async def test_unknown_path_is_a_404_page(people):
    visitor = await people()
    response = await visitor.get("/no/such/page")
    assert response.status_code == 404
    assert error_page_message(response) == "This page does not exist."


@pytest.mark.parametrize(
    "path",
    [
        "/public?max_id=abc",
        "/public?max_id=-1",
        "/public?max_id=0",
        "/?max_id=abc",
        "/tags/x?max_id=1.5",
        "/public?max_id=99999999999999999999999",
    ],
)
async def test_bad_cursor_is_a_400_page(people, path):
    visitor = await people()

    response = await visitor.get(path)

    assert response.status_code == 400
    assert error_page_message(response) == "Something in that request was not right: max_id."


async def test_bad_cursor_on_a_profile_is_400(people):
    alice = await people("alice")
    response = await alice.get("/@alice?max_id=abc")
    assert response.status_code == 400
    assert error_page_message(response) == "Something in that request was not right: max_id."


@pytest.mark.parametrize("name", ["abc", "0", "-5", "99999999999999999999999"])
async def test_bad_avatar_name_is_404(people, name):
    visitor = await people()
    response = await visitor.get(f"/avatars/{name}.svg")
    assert response.status_code == 404
    assert error_page_message(response) == "No such avatar."


async def test_error_pages_show_who_is_signed_in(people):
    alice = await people("alice")
    response = await alice.get("/@nobody")
    assert response.status_code == 404
    assert "Log out" in response.text


async def test_security_headers_are_set(people):
    visitor = await people()
    for path in ("/", "/login", "/@nobody"):
        response = await visitor.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"


async def test_markup_in_a_rejected_username_is_escaped(people):
    person = await people()
    response = await person.register('"><script>alert(1)</script>', email="x@example.org")
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text
