"""``POST /api/v1/apps`` and ``/api/v{1,2}/instance`` over HTTP: what a client reads before it
has a token, checked field by field against Mastodon's documented entities."""

from __future__ import annotations

import re

import pytest

from api_support import anonymous, register_app

# Mastodon's Application entity as ``POST /api/v1/apps`` answers it (with credentials).
APPLICATION_FIELDS = {
    "id",
    "name",
    "website",
    "redirect_uri",
    "redirect_uris",
    "scopes",
    "client_id",
    "client_secret",
    "vapid_key",
}
# https://docs.joinmastodon.org/entities/V1_Instance/ (every attribute up to 4.2).
INSTANCE_V1 = {
    "uri": str,
    "title": str,
    "short_description": str,
    "description": str,
    "email": str,
    "version": str,
    "urls": dict,
    "stats": dict,
    "thumbnail": (str, type(None)),
    "languages": list,
    "registrations": bool,
    "approval_required": bool,
    "invites_enabled": bool,
    "configuration": dict,
    "contact_account": (dict, type(None)),
    "rules": list,
}
# https://docs.joinmastodon.org/entities/Instance/ (every attribute up to 4.2).
INSTANCE_V2 = {
    "domain": str,
    "title": str,
    "version": str,
    "source_url": str,
    "description": str,
    "usage": dict,
    "thumbnail": dict,
    "languages": list,
    "configuration": dict,
    "registrations": dict,
    "contact": dict,
    "rules": list,
}
CONFIGURATION = {
    "accounts": {"max_featured_tags"},
    "statuses": {"max_characters", "max_media_attachments", "characters_reserved_per_url"},
    "media_attachments": {
        "supported_mime_types",
        "image_size_limit",
        "image_matrix_limit",
        "video_size_limit",
        "video_frame_rate_limit",
        "video_matrix_limit",
    },
    "polls": {"max_options", "max_characters_per_option", "min_expiration", "max_expiration"},
}
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+")


async def post_app(app, **request) -> object:
    async with anonymous(app) as client:
        return await client.post("/api/v1/apps", **request)


# Apps


@pytest.mark.parametrize(
    "request_kwargs",
    [
        pytest.param(
            {
                "data": {
                    "client_name": "Tusky",
                    "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                    "scopes": "read write:statuses",
                    "website": "https://tusky.app",
                }
            },
            id="form",
        ),
        pytest.param(
            {
                "json": {
                    "client_name": "Tusky",
                    "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                    "scopes": "read write:statuses",
                    "website": "https://tusky.app",
                }
            },
            id="json",
        ),
        pytest.param(
            {
                "json": {
                    "client_name": "Tusky",
                    "redirect_uris": ["urn:ietf:wg:oauth:2.0:oob"],
                    "scopes": "read write:statuses",
                    "website": "https://tusky.app",
                }
            },
            id="json-uri-list",
        ),
        pytest.param(
            {
                # Some clients send a urlencoded body and no Content-Type at all.
                "content": b"client_name=Tusky&redirect_uris=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob"
                b"&scopes=read+write%3Astatuses&website=https%3A%2F%2Ftusky.app",
                "headers": {"Content-Type": ""},
            },
            id="no-content-type",
        ),
    ],
)
@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
async def test_registering_an_app_answers_its_credentials(app, request_kwargs: dict) -> None:
    response = await post_app(app, **request_kwargs)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.keys() >= APPLICATION_FIELDS
    assert body["name"] == "Tusky"
    assert body["website"] == "https://tusky.app"
    assert body["redirect_uri"] == "urn:ietf:wg:oauth:2.0:oob"
    assert body["redirect_uris"] == ["urn:ietf:wg:oauth:2.0:oob"]
    assert set(body["scopes"]) == {"read", "write:statuses"}
    assert body["id"].isdigit()
    assert len(body["client_id"]) >= 32 and len(body["client_secret"]) >= 32
    assert body["client_id"] != body["client_secret"]
    assert isinstance(body["vapid_key"], str)


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
async def test_app_without_scopes_gets_read_and_several_redirect_uris_are_kept(app) -> None:
    response = await post_app(
        app,
        data={
            "client_name": "two doors",
            "redirect_uris": "https://client.example/cb\nmyapp://oauth",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scopes"] == ["read"]  # Mastodon's default
    assert body["redirect_uris"] == ["https://client.example/cb", "myapp://oauth"]
    assert body["website"] is None
    # Two registrations are two apps with their own credentials.
    again = (await post_app(app, data={"client_name": "x", "redirect_uris": "myapp://a"})).json()
    assert again["client_id"] != body["client_id"]
    assert again["id"] != body["id"]


@pytest.mark.parametrize(
    ("fields", "mentions"),
    [
        ({"redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}, "name"),
        ({"client_name": "  ", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}, "name"),
        ({"client_name": "x"}, "redirect"),
        ({"client_name": "x", "redirect_uris": "not a uri"}, "redirect"),
        ({"client_name": "x", "redirect_uris": "javascript:alert(1)"}, "redirect"),
        ({"client_name": "x", "redirect_uris": "oob", "scopes": "read"}, "redirect"),
        (
            {"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "admin"},
            "admin",
        ),
        (
            {
                "client_name": "x",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read:everything",
            },
            "read:everything",
        ),
        (
            {
                "client_name": "x",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "website": "javascript:alert(1)",
            },
            "website",
        ),
    ],
)
@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
async def test_bad_app_registrations_are_422_with_an_error(
    app, fields: dict[str, str], mentions: str
) -> None:
    response = await post_app(app, data=fields)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error, str) and error
    assert mentions in (error + " " + response.json().get("error_description", "")).lower()


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
async def test_an_apps_token_verifies_the_app(app) -> None:
    client_app = await register_app(app, scopes="read")
    async with anonymous(app) as client:
        token = await client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_app["client_id"],
                "client_secret": client_app["client_secret"],
            },
        )
        assert token.status_code == 200, token.text
        checked = await client.get(
            "/api/v1/apps/verify_credentials",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        assert checked.status_code == 200, checked.text
        assert checked.json()["name"] == client_app["name"]
        assert "client_secret" not in checked.json()
        nobody = await client.get("/api/v1/apps/verify_credentials")
        assert nobody.status_code == 401
        assert "error" in nobody.json()


# Instance


def assert_typed_fields(body: dict, expected: dict[str, type | tuple[type, ...]]) -> None:
    missing = expected.keys() - body.keys()
    assert not missing, f"missing fields: {sorted(missing)}"
    for name, kind in expected.items():
        assert isinstance(body[name], kind), f"{name} is {body[name]!r}"


def assert_configuration(configuration: dict, max_characters: int) -> None:
    for section, fields in CONFIGURATION.items():
        assert fields <= configuration[section].keys(), section
        for field in fields:
            assert isinstance(configuration[section][field], int | list), field
    assert configuration["statuses"]["max_characters"] == max_characters
    assert configuration["statuses"]["characters_reserved_per_url"] == 23


@pytest.mark.parametrize("path", ["/api/v1/instance", "/api/v1/instance/"])
async def test_instance_v1_has_every_documented_field(app, people, settings, path: str) -> None:
    await people("ana")
    await people("bob")
    async with anonymous(app) as client:
        response = await client.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    assert_typed_fields(body, INSTANCE_V1)
    assert VERSION_RE.match(body["version"]) and body["version"].startswith("4.2.0")
    assert body["uri"] == "testserver"  # the bare domain, as clients build handles from it
    assert body["title"] == "Twoorl"
    assert body["urls"]["streaming_api"] == "ws://testserver"
    assert {"user_count", "status_count", "domain_count"} <= body["stats"].keys()
    assert body["stats"]["user_count"] == 2
    assert body["registrations"] is True
    assert "en" in body["languages"] and all(len(code) == 2 for code in body["languages"])
    assert_configuration(body["configuration"], settings.max_post_length)
    assert body["thumbnail"].startswith("http://testserver/")
    assert "X-RateLimit-Limit" in response.headers


@pytest.mark.parametrize("path", ["/api/v2/instance", "/api/v2/instance/"])
async def test_instance_v2_has_every_documented_field(app, settings, path: str) -> None:
    async with anonymous(app) as client:
        response = await client.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    assert_typed_fields(body, INSTANCE_V2)
    assert VERSION_RE.match(body["version"]) and body["version"].startswith("4.2.0")
    assert body["domain"] == "testserver"
    assert body["source_url"].startswith("http")
    assert body["usage"]["users"]["active_month"] >= 0
    assert body["thumbnail"]["url"].startswith("http://testserver/")
    configuration = body["configuration"]
    assert_configuration(configuration, settings.max_post_length)
    assert configuration["urls"]["streaming"] == "ws://testserver"
    assert configuration["translation"] == {"enabled": False}
    assert {"enabled", "approval_required", "message"} <= body["registrations"].keys()
    assert {"email", "account"} <= body["contact"].keys()


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
@pytest.mark.parametrize("settings_overrides", [{"max_post_length": 500}])
async def test_instance_reports_the_configured_post_length(app) -> None:
    async with anonymous(app) as client:
        v1 = (await client.get("/api/v1/instance")).json()
        v2 = (await client.get("/api/v2/instance")).json()
    assert v1["configuration"]["statuses"]["max_characters"] == 500
    assert v2["configuration"]["statuses"]["max_characters"] == 500
