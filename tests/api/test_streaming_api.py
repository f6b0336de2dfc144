"""Mastodon's streaming API over Server-Sent Events, read over a real socket.

httpx's ASGI transport hands back a response only once the app has finished it, and an
event stream never finishes; so the test's app is served by uvicorn on a free port inside
the test's own event loop (sharing its database connections), and read with a plain HTTP
client. Jobs run when each API call drains them (``ApiUser``), which is when the events are
published, as the job worker would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from api_support import anonymous
from twoorl.accounts import service as accounts
from twoorl.moderation import service as moderation

EVENT_TIMEOUT = 5.0
# Streams are served from one process, so one database shape tells enough.
pytestmark = pytest.mark.parametrize("shard_urls", ["sqlite3"], indirect=True)


class _InLoopServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):
        yield  # pytest keeps its own signal handlers


@pytest.fixture
async def live_url(app) -> AsyncIterator[str]:
    """The test's app served over TCP on a free port, in this event loop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", ws="none", timeout_graceful_shutdown=2
    )
    server = _InLoopServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(10):
        while not server.started:
            assert not task.done(), task.exception()
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


class EventStream:
    """Reads one SSE response event by event: ``(event, data)``, comments skipped."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, within: float = EVENT_TIMEOUT) -> tuple[str, str]:
        event, data = "", []
        async with asyncio.timeout(within):
            while True:
                line = await anext(self._lines)
                if line.startswith(":"):
                    continue  # heartbeat
                if not line:
                    if data:
                        return event, "\n".join(data)
                    continue
                field, _colon, value = line.partition(":")
                value = value.removeprefix(" ")
                if field == "event":
                    event = value
                elif field == "data":
                    data.append(value)

    async def nothing_more(self, wait: float = 0.3) -> None:
        with contextlib.suppress(TimeoutError):
            event = await self.next(within=wait)
            raise AssertionError(f"unexpected event {event}")


async def wait_for_subscribers(app, channel: str, count: int = 1) -> None:
    """A stream subscribes once its response has started: wait for that before causing the
    events it should see (reads the in-process broker's subscriber table)."""
    broker = app.state.services.broker
    async with asyncio.timeout(5):
        # The broker offers nothing to wait on for a new subscriber: poll its table.
        while len(broker._queues.get(channel, ())) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def opened(
    base_url: str, path: str, token: str | None = None, *, in_query: bool = False, **params
) -> AsyncIterator[EventStream]:
    headers = {"Authorization": f"Bearer {token}"} if token and not in_query else {}
    if token and in_query:
        params["access_token"] = token
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=EVENT_TIMEOUT) as client,
        client.stream("GET", path, headers=headers, params=params) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventStream(response)


async def test_health_says_ok(app) -> None:
    async with anonymous(app) as client:
        response = await client.get("/api/v1/streaming/health")
    assert response.status_code == 200 and response.text == "OK"


async def test_user_streams_need_a_valid_token(app, live_url, api_users) -> None:
    ana = await api_users("ana")
    async with httpx.AsyncClient(base_url=live_url, timeout=EVENT_TIMEOUT) as client:
        for path in ("/api/v1/streaming/user", "/api/v1/streaming/user/notification"):
            response = await client.get(path)
            assert response.status_code == 401, response.text
            assert response.json()["error"]
            response = await client.get(path, params={"access_token": "not-a-token"})
            assert response.status_code == 401, response.text
            response = await client.get(path, headers={"Authorization": "Bearer nope"})
            assert response.status_code == 401, response.text
    # The token as a query parameter (EventSource cannot send headers) works too.
    async with opened(live_url, "/api/v1/streaming/user", ana.token, in_query=True) as stream:
        await wait_for_subscribers(app, "posts")
        made = await ana.status("hello")
        event, data = await stream.next()
        assert event == "update" and json.loads(data)["id"] == made["id"]


async def test_user_stream_updates_notifications_and_deletes(app, live_url, api_users) -> None:
    ana, bob, cy = await api_users("ana"), await api_users("bob"), await api_users("cy")
    assert (await bob.post(f"/api/v1/accounts/{ana.id}/follow")).status_code == 200
    async with opened(live_url, "/api/v1/streaming/user", bob.token) as stream:
        await wait_for_subscribers(app, f"notifications:{bob.id}")
        # A followee's post and bob's own arrive as updates; a stranger's does not.
        await cy.status("cy talks to nobody")
        by_ana = await ana.status("ana for her followers")
        event, data = await stream.next()
        assert event == "update", data
        status = json.loads(data)
        assert status["id"] == by_ana["id"] and status["account"]["username"] == "ana"
        assert status["favourited"] is False  # as bob sees it
        own = await bob.status("bob himself")
        assert (await stream.next())[0] == "update"

        # Someone following, mentioning and favouriting bob: notifications.
        await cy.post(f"/api/v1/accounts/{bob.id}/follow")
        event, data = await stream.next()
        assert event == "notification", data
        note = json.loads(data)
        assert note["type"] == "follow" and note["account"]["username"] == "cy"
        assert {"id", "type", "created_at", "account", "status"} <= set(note)
        mention = await cy.status("hey @bob")
        event, data = await stream.next()
        assert event == "notification" and json.loads(data)["type"] == "mention"
        assert json.loads(data)["status"]["id"] == mention["id"]
        await cy.post(f"/api/v1/statuses/{own['id']}/favourite")
        event, data = await stream.next()
        assert event == "notification" and json.loads(data)["type"] == "favourite"
        assert json.loads(data)["status"]["id"] == own["id"]

        # A followee's reblog arrives as the reblog wrapper.
        reblogged = await ana.post(f"/api/v1/statuses/{mention['id']}/reblog")
        event, data = await stream.next()
        assert event == "update", data
        assert json.loads(data)["id"] == reblogged.json()["id"]
        assert json.loads(data)["reblog"]["id"] == mention["id"]

        # Deleting sends the id, as a bare string.
        await ana.delete(f"/api/v1/statuses/{by_ana['id']}")
        assert await stream.next() == ("delete", by_ana["id"])
        await stream.nothing_more()


async def test_notification_stream_has_only_notifications(app, live_url, api_users) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    await ana.post(f"/api/v1/accounts/{bob.id}/follow")
    path = "/api/v1/streaming/user/notification"
    async with opened(live_url, path, ana.token) as stream:
        await wait_for_subscribers(app, f"notifications:{ana.id}")
        post = await bob.status("no mention here")  # an update for the user stream only
        await bob.delete(f"/api/v1/statuses/{post['id']}")
        await bob.status("but @ana here")
        event, data = await stream.next()
        assert event == "notification" and json.loads(data)["type"] == "mention"
        await stream.nothing_more()


async def test_public_and_hashtag_streams(app, live_url, api_users) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    async with (
        opened(live_url, "/api/v1/streaming/public") as public,
        opened(live_url, "/api/v1/streaming/hashtag", tag="Tea") as tea,
        opened(live_url, "/api/v1/streaming/hashtag", ana.token, in_query=True, tag="#tea") as own,
    ):
        await wait_for_subscribers(app, "posts", count=3)
        plain = await ana.status("nothing tagged")
        tagged = await bob.status("time for #tea")
        await ana.post(f"/api/v1/statuses/{tagged['id']}/reblog")  # not a new public post
        assert [json.loads((await public.next())[1])["id"] for _ in range(2)] == [
            plain["id"],
            tagged["id"],
        ]
        for stream, viewers_own in ((tea, None), (own, False)):
            event, data = await stream.next()
            assert event == "update" and json.loads(data)["id"] == tagged["id"]
            # Statuses are built for the stream's reader: a signed-in one gets their flags.
            assert json.loads(data)["favourited"] is viewers_own
        await bob.delete(f"/api/v1/statuses/{tagged['id']}")
        assert await public.next() == ("delete", tagged["id"])
        assert await tea.next() == ("delete", tagged["id"])
        await public.nothing_more()


async def test_spammers_posts_stay_out_of_public_streams(app, live_url, api_users, shards) -> None:
    ana, bob, spammer = await api_users("ana"), await api_users("bob"), await api_users("spammer")
    await ana.post(f"/api/v1/accounts/{spammer.id}/follow")
    flagged = await accounts.get_by_username(shards, "spammer")
    await moderation.mark_spam(shards, None, flagged, True, "watches")
    async with (
        opened(live_url, "/api/v1/streaming/public") as public,
        opened(live_url, "/api/v1/streaming/hashtag", tag="deals") as tag,
        opened(live_url, "/api/v1/streaming/user", ana.token) as home,
    ):
        await wait_for_subscribers(app, "posts", count=3)
        spam = await spammer.status("cheap watches #deals")
        clean = await bob.status("real #deals")
        for stream in (public, tag):
            event, data = await stream.next()
            assert event == "update" and json.loads(data)["id"] == clean["id"]
        # Her home keeps the people she follows, spammers too (as the home timeline does).
        event, data = await home.next()
        assert event == "update" and json.loads(data)["id"] == spam["id"]
        await public.nothing_more()


async def test_media_only_and_remote_streams_stay_quiet(app, live_url, api_users) -> None:
    ana = await api_users("ana")
    async with (
        opened(live_url, "/api/v1/streaming/public") as everything,
        opened(live_url, "/api/v1/streaming/public", only_media="true") as media,
        opened(live_url, "/api/v1/streaming/public/remote") as remote,
        opened(live_url, "/api/v1/streaming/hashtag", tag="tea", only_media="1") as tea_media,
    ):
        await wait_for_subscribers(app, "posts")
        made = await ana.status("plain #tea, no picture")
        assert (await everything.next())[0] == "update"
        await ana.delete(f"/api/v1/statuses/{made['id']}")
        assert await everything.next() == ("delete", made["id"])
        for stream in (media, remote, tea_media):
            await stream.nothing_more(wait=0.1)
