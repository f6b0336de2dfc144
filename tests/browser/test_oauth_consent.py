"""A person lets an app into their account in the browser, sees it in settings, and takes the
access back: the consent page, the out-of-band code, and the "Authorized apps" list."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, expect

from .support import register, screenshot

pytestmark = pytest.mark.browser
OOB = "urn:ietf:wg:oauth:2.0:oob"


def test_authorize_an_app_then_revoke_it(
    browser: Browser, live_server, request: pytest.FixtureRequest
) -> None:
    base = live_server.base_url
    with httpx.Client(base_url=base) as client:
        app = client.post(
            "/api/v1/apps",
            data={"client_name": "Pocket Twoorl", "redirect_uris": OOB, "scopes": "read write"},
        ).json()
    context = browser.new_context(base_url=base)
    try:
        page = register(context, base, "olga")
        page.goto(
            f"{base}/oauth/authorize?response_type=code&client_id={app['client_id']}"
            f"&redirect_uri={OOB}&scope=read&state=None&force_login=False&lang=None"
        )
        expect(page.locator("h1")).to_contain_text("Pocket Twoorl")
        expect(page.locator(".scopes li")).to_have_count(1)
        screenshot(page, request.config.rootpath, "oauth-consent.png")
        page.get_by_role("button", name="Authorize").click()
        code = page.locator("input.oauth-code-value").input_value()
        assert len(code) > 20

        with httpx.Client(base_url=base) as client:
            token = client.post(
                "/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": OOB,
                    "client_id": app["client_id"],
                    "client_secret": app["client_secret"],
                },
            ).json()
            assert token["scope"] == "read"
            bearer = {"Authorization": f"Bearer {token['access_token']}"}
            me = client.get("/api/v1/accounts/verify_credentials", headers=bearer)
            assert me.json()["username"] == "olga"

            page.goto(base + "/settings")
            listed = page.locator("section", has_text="Authorized apps")
            expect(listed).to_contain_text("Pocket Twoorl")
            screenshot(page, request.config.rootpath, "settings-authorized-apps.png")
            listed.get_by_role("button", name="Revoke").click()
            expect(page.locator("section", has_text="Authorized apps")).not_to_contain_text(
                "Pocket Twoorl"
            )
            assert (
                client.get("/api/v1/accounts/verify_credentials", headers=bearer).status_code == 401
            )
    finally:
        context.close()
