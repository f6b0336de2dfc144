"""Mastodon.py, a client library nobody on this team wrote, against a live ``twoorl serve``:
apps, both logins, posting, replies, timelines with paging, follows, favourites, reblogs,
notifications, search and the user stream."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator

import pytest
from clients_support import PASSWORD, eventually, register
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError, StreamListener

from live_server import LiveServer, attach_server_log, twoorl_serve

SCOPES = ["read", "write", "follow", "push"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # Heartbeats every half second: closing a Mastodon.py stream waits for the next byte.
    with twoorl_serve(
        tmp_path_factory.mktemp("mastodon-py"), TWOORL_STREAM_HEARTBEAT_SECONDS="0.5"
    ) as live:
        yield live


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    attach_server_log(item, report)
    return report


@pytest.fixture(scope="module")
def app_credentials(server: LiveServer) -> tuple[str, str]:
    return Mastodon.create_app(
        "Twoorl tests", scopes=SCOPES, api_base_url=server.base_url, to_file=None
    )


def client(server: LiveServer, credentials: tuple[str, str]) -> Mastodon:
    client_id, client_secret = credentials
    return Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=server.base_url,
        version_check_mode="created",
        ratelimit_method="throw",
    )


@pytest.fixture(scope="module")
def ana(server: LiveServer, app_credentials) -> Iterator[Mastodon]:
    """Logged in with the password grant."""
    register(server.base_url, "ana").close()
    api = client(server, app_credentials)
    api.log_in("ana", PASSWORD, scopes=SCOPES)
    yield api
    api.session.close()


@pytest.fixture(scope="module")
def bob(server: LiveServer, app_credentials) -> Iterator[Mastodon]:
    """Logged in with the authorization-code flow, consenting on the web page as a person."""
    browser = register(server.base_url, "bob")
    api = client(server, app_credentials)
    try:
        yield from _consent(server, api, browser)
    finally:
        browser.close()
        api.session.close()


def _consent(server: LiveServer, api: Mastodon, browser) -> Iterator[Mastodon]:
    url = api.auth_request_url(scopes=SCOPES)
    consent = browser.get(url.removeprefix(server.base_url))
    assert consent.status_code == 200, consent.text
    assert "Twoorl tests" in consent.text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', consent.text))
    answer = browser.post(
        "/oauth/authorize",
        data={**{k: html.unescape(v) for k, v in fields.items()}, "decision": "approve"},
    )
    assert answer.status_code == 200, answer.text
    code = re.search(r'class="oauth-code-value" readonly value="([^"]+)"', answer.text)
    assert code, answer.text
    api.log_in(code=code.group(1), scopes=SCOPES)
    yield api


def test_who_is_who(ana: Mastodon, bob: Mastodon) -> None:
    assert ana.me().username == "ana"
    assert bob.account_verify_credentials().acct == "bob"
    assert ana.me().id != bob.me().id
    instance = ana.instance()
    assert instance.configuration.statuses.max_characters == 140


def test_post_follow_reply_and_home(ana: Mastodon, bob: Mastodon) -> None:
    relationship = bob.account_follow(ana.me())
    assert relationship.following is True
    hello = ana.status_post("Hello from Mastodon.py #clients")
    assert hello.account.acct == "ana"
    assert hello.tags[0].name == "clients"

    home = bob.timeline_home()
    assert hello.id in [status.id for status in home]

    reply = bob.status_reply(hello, "nice to see you")
    assert reply.in_reply_to_id == hello.id
    assert "@ana" in reply.content
    # The replier sees their reply at once; others once the reply-linking job has run.
    assert [s.id for s in bob.status_context(hello).descendants] == [reply.id]
    descendants = eventually(lambda: [s.id for s in ana.status_context(hello).descendants])
    assert descendants == [reply.id]

    kinds = eventually(lambda: {n.type for n in ana.notifications()} >= {"follow", "mention"})
    assert kinds, [n.type for n in ana.notifications()]


def test_favourite_reblog_and_their_notifications(ana: Mastodon, bob: Mastodon) -> None:
    post = ana.status_post("Like and share me")
    liked = bob.status_favourite(post)
    assert liked.favourited is True
    assert liked.favourites_count == 1
    reblog = bob.status_reblog(post)
    assert reblog.reblog.id == post.id
    assert reblog.account.acct == "bob"

    def seen() -> set[str]:
        return {n.type for n in ana.notifications() if n.status and n.status.id == post.id}

    assert eventually(lambda: seen() >= {"favourite", "reblog"}), seen()
    assert [a.acct for a in ana.status_favourited_by(post)] == ["bob"]
    assert [a.acct for a in ana.status_reblogged_by(post)] == ["bob"]


def test_public_and_tag_timelines_page_with_fetch_next(ana: Mastodon, bob: Mastodon) -> None:
    bob.account_follow(ana.me())  # for the home timeline (already done if run after the above)
    made = [ana.status_post(f"Paging post {n} #paging").id for n in range(7)]
    for timeline in (
        lambda: bob.timeline_hashtag("paging", limit=3),
        lambda: bob.timeline_public(limit=3),
        lambda: bob.timeline_home(limit=3),
    ):
        page = timeline()
        seen = []
        while page:
            seen += [status.id for status in page]
            page = bob.fetch_next(page)
        newest_first = list(reversed(made))
        assert [i for i in seen if i in made] == newest_first
        assert len(seen) == len(set(seen))


def test_search_finds_people_posts_and_tags(ana: Mastodon, bob: Mastodon) -> None:
    ana.status_post("Searching for the word zeppelin #airships")
    found = bob.search("zeppelin")
    assert [s.account.acct for s in found.statuses] == ["ana"]
    assert "ana" in [a.acct for a in bob.search("an").accounts]
    assert "airships" in [t.name for t in bob.search("#airsh").hashtags]


def test_stream_user_delivers_a_new_post(ana: Mastodon, bob: Mastodon) -> None:
    arrived = threading.Event()
    updates: list = []

    class Listener(StreamListener):
        def on_update(self, status) -> None:
            updates.append(status)
            if "streamed" in status.content:
                arrived.set()

    handle = bob.stream_user(Listener(), run_async=True, reconnect_async=False)
    try:
        assert eventually(handle.is_receiving, timeout=10), "the stream never opened"
        ana.status_post("This one is streamed live")
        assert arrived.wait(15), [u.content for u in updates]
    finally:
        handle.close()
    status = next(u for u in updates if "streamed" in u.content)
    assert status.account.acct == "ana"


def test_errors_reach_the_client_as_exceptions(ana: Mastodon, bob: Mastodon) -> None:
    post = ana.status_post("Only I may delete this")
    with pytest.raises(MastodonAPIError) as refused:
        bob.status_delete(post)
    assert refused.value.args[1] == 403
    with pytest.raises(MastodonNotFoundError):
        bob.status("12345")
    deleted = ana.status_delete(post)
    assert deleted.text == "Only I may delete this"
    with pytest.raises(MastodonNotFoundError):
        ana.status(post)
