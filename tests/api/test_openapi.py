"""``/api/openapi.json`` describes the API we serve: every ``/api/v1`` and ``/api/v2`` route
with the entity its 200 answer holds, and none of the HTML pages."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from api_support import STATUS_FIELDS, VIEWER_FIELDS, anonymous
from twoorl import api

# The document does not depend on the database.
pytestmark = pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
API_PREFIXES = ("/api/v1/", "/api/v2/")
STREAM_TYPE = "text/event-stream"
# (method, path) -> the entity of the 200 answer; "[X]" is a list of X.
EXPECTED_ENTITIES = {
    ("POST", "/api/v1/statuses"): "Status",
    ("GET", "/api/v1/statuses/{status_id}"): "Status",
    ("DELETE", "/api/v1/statuses/{status_id}"): "Status",
    ("GET", "/api/v1/statuses/{status_id}/context"): "Context",
    ("POST", "/api/v1/statuses/{status_id}/favourite"): "Status",
    ("POST", "/api/v1/statuses/{status_id}/unfavourite"): "Status",
    ("POST", "/api/v1/statuses/{status_id}/reblog"): "Status",
    ("POST", "/api/v1/statuses/{status_id}/unreblog"): "Status",
    ("GET", "/api/v1/statuses/{status_id}/favourited_by"): "[Account]",
    ("GET", "/api/v1/statuses/{status_id}/reblogged_by"): "[Account]",
    ("GET", "/api/v1/timelines/home"): "[Status]",
    ("GET", "/api/v1/timelines/public"): "[Status]",
    ("GET", "/api/v1/timelines/tag/{hashtag}"): "[Status]",
    ("GET", "/api/v1/notifications"): "[Notification]",
    ("GET", "/api/v1/notifications/{notification_id}"): "Notification",
    ("POST", "/api/v1/notifications/clear"): "Empty",
    ("POST", "/api/v1/notifications/{notification_id}/dismiss"): "Empty",
    ("GET", "/api/v2/search"): "Search",
    ("GET", "/api/v1/accounts/{account_id}"): "Account",
    ("GET", "/api/v1/accounts/verify_credentials"): "CredentialAccount",
    ("GET", "/api/v1/instance"): "InstanceV1",
    ("POST", "/api/v1/apps"): "RegisteredApplication",
}
STREAMS = [
    "/api/v1/streaming/user",
    "/api/v1/streaming/user/notification",
    "/api/v1/streaming/public",
    "/api/v1/streaming/public/local",
    "/api/v1/streaming/public/remote",
    "/api/v1/streaming/hashtag",
    "/api/v1/streaming/hashtag/local",
]


@pytest.fixture
async def spec(app) -> dict:
    async with anonymous(app) as client:
        response = await client.get("/api/openapi.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def served_api_routes(*, documented: bool = True) -> set[tuple[str, str]]:
    """The API's routes, from the routers the app includes (``app.routes`` holds included
    routers lazily in this FastAPI, not their routes); those left out of the document with
    ``documented=False``."""
    return {
        (method, route.path)
        for module in api.ROUTERS
        for route in module.router.routes
        if isinstance(route, APIRoute)
        and route.path.startswith(API_PREFIXES)
        and route.include_in_schema == documented
        for method in route.methods - {"HEAD"}
    }


def entity_of(schema: dict) -> str | None:
    """``Status`` for a $ref to it, ``[Status]`` for a list of them, else None."""
    if "$ref" in schema:
        return schema["$ref"].removeprefix("#/components/schemas/")
    if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
        return f"[{entity_of(schema['items'])}]"
    return None


async def test_every_api_route_is_documented_with_its_answer(app, spec: dict) -> None:
    served = served_api_routes()
    assert len(served) > 30 and set(EXPECTED_ENTITIES) <= served
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert served <= documented, sorted(served - documented)
    # Only aliases (a trailing slash) may be left out, and what they alias is documented.
    for method, path in served_api_routes(documented=False):
        assert path.endswith("/") and (method, path.rstrip("/")) in documented, path
    for method, path in sorted(served):
        answers = spec["paths"][path][method.lower()]["responses"]
        assert "200" in answers, (method, path)
        content = answers["200"].get("content", {})
        if path.startswith("/api/v1/streaming/") and path != "/api/v1/streaming/health":
            assert list(content) == [STREAM_TYPE], (path, content)
            continue
        if path == "/api/v1/streaming/health":
            assert list(content) == ["text/plain"]
            continue
        assert list(content) == ["application/json"], (method, path, content)
        entity = entity_of(content["application/json"]["schema"])
        assert entity is not None, (method, path, content)
        assert entity.strip("[]") in spec["components"]["schemas"], entity
        if (method, path) in EXPECTED_ENTITIES:
            assert entity == EXPECTED_ENTITIES[method, path], (method, path)


async def test_the_document_has_no_html_pages(spec: dict) -> None:
    for path, operations in spec["paths"].items():
        assert path.startswith(("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/")), path
        for operation in operations.values():
            for answer in operation.get("responses", {}).values():
                assert "text/html" not in answer.get("content", {}), path
    for page in ("/", "/login", "/public", "/@{username}", "/notifications", "/stream/home"):
        assert page not in spec["paths"]


async def test_entities_in_the_document_carry_mastodons_fields(spec: dict) -> None:
    schemas = spec["components"]["schemas"]
    status = set(schemas["Status"]["properties"])
    assert status >= STATUS_FIELDS | VIEWER_FIELDS
    notification = set(schemas["Notification"]["properties"])
    assert {"id", "type", "created_at", "account", "status"} <= notification
    assert set(schemas["Search"]["properties"]) == {"accounts", "statuses", "hashtags"}
    assert {"ancestors", "descendants"} <= set(schemas["Context"]["properties"])


@pytest.mark.parametrize("path", STREAMS)
async def test_streams_are_documented_as_event_streams(spec: dict, path: str) -> None:
    operation = spec["paths"][path]["get"]
    assert list(operation["responses"]["200"]["content"]) == [STREAM_TYPE]
