"""Notifications over HTTP on every backend: what the page says and in what order, grouping,
withdrawal when the cause is undone, the unread count in the header, paging; and the live
parts: the event streams, the broker events behind them, and the new-entries fragment."""

from __future__ import annotations

import asyncio
import html
import json
import re
from dataclasses import dataclass

from sqlalchemy import select
from web_support import account_id, send

from conftest import post_ids
from twoorl.accounts import service as accounts
from twoorl.moderation import service as moderation
from twoorl.notifications.tables import notifications
from twoorl.posts.tables import posts
from twoorl.storage.shards import ShardSet

LINE_RE = re.compile(r'<li class="notification (\w+)( unread)?">(.*?)</li>', re.DOTALL)
WORDS_RE = re.compile(r"<p>(.*?)<time", re.DOTALL)
QUOTED_RE = re.compile(r'<a class="quoted" href="([^"]+)">(.*?)</a>', re.DOTALL)
TAG_RE = re.compile(r"<[^>]+>")
BADGE_RE = re.compile(r'<span class="badge" data-unread( hidden)?>([^<]*)</span>')
OLDER_RE = re.compile(r'<a rel="next" href="\?max_id=(\d+)">Older')
EMPTY = "No notifications yet."
WAIT = 5.0  # seconds to wait for a live event that should come


# --- helpers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    kind: str
    unread: bool
    words: str  # "bob liked your post", without the time
    quoted: str | None  # the quoted post's text, if any
    link: str | None  # where the quote links


def lines(page: str) -> list[Line]:
    """The notification lines on a /notifications page, top to bottom."""
    found = []
    for kind, unread, body in LINE_RE.findall(page):
        words = WORDS_RE.search(body)
        assert words, body
        quoted = QUOTED_RE.search(body)
        found.append(
            Line(
                kind,
                bool(unread),
                " ".join(html.unescape(TAG_RE.sub("", words.group(1))).split()),
                html.unescape(quoted.group(2)) if quoted else None,
                quoted.group(1) if quoted else None,
            )
        )
    return found


async def notes(person, path: str = "/notifications") -> list[Line]:
    response = await person.get(path)
    assert response.status_code == 200, response.text
    found = lines(response.text)
    assert (EMPTY in response.text) == (not found)
    return found


def badge(page: str) -> int:
    """The unread count in the header: 0 when the badge is hidden."""
    match = BADGE_RE.search(page)
    assert match, "no unread badge in the header"
    hidden, shown = match.groups()
    count = 100 if shown == "99+" else int(shown)
    assert bool(hidden) == (count == 0), match.group(0)
    return count


async def unread_in_header(person, path: str = "/settings") -> int:
    response = await person.get(path)
    assert response.status_code == 200
    return badge(response.text)


async def stored(shards: ShardSet, username: str) -> list:
    """The recipient's notification rows, newest first, all from the recipient's shard."""
    recipient = await account_id(shards, username)
    everywhere = []
    for shard in shards.shards:
        async with shard.read() as conn:
            everywhere.extend(
                (
                    await conn.execute(
                        select(notifications).where(notifications.c.account_id == recipient)
                    )
                ).all()
            )
    async with shards.for_id(recipient).read() as conn:
        home = (
            await conn.execute(
                select(notifications)
                .where(notifications.c.account_id == recipient)
                .order_by(notifications.c.id.desc())
            )
        ).all()
    assert len(everywhere) == len(home), "notification rows off the recipient's shard"
    return home


async def say_id(shards: ShardSet, person, text: str, reply_to: int | None = None) -> int:
    author = await account_id(shards, person.username)

    async def mine() -> set[int]:
        async with shards.for_id(author).read() as conn:
            return set(
                (
                    await conn.execute(
                        select(posts.c.id).where(
                            posts.c.author_id == author, posts.c.repost_of_id.is_(None)
                        )
                    )
                ).scalars()
            )

    before = await mine()
    data = {"status": text}
    if reply_to is not None:
        data["in_reply_to_id"] = str(reply_to)
    response = await send(person, "/posts", data)
    assert response.status_code == 303, response.text
    [new] = await mine() - before
    return new


async def ok(person, action: str, data: dict[str, str] | None = None) -> None:
    response = await send(person, action, data)
    assert response.status_code == 303, response.text


# --- what the page says ----------------------------------------------------------------------


async def test_the_page_needs_a_login(people):
    visitor = await people()
    response = await visitor.get("/notifications")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/notifications"


async def test_nobody_has_told_a_newcomer_anything(people, shards):
    alice = await people("alice")
    assert await notes(alice) == []
    assert await unread_in_header(alice, "/") == 0
    assert await stored(shards, "alice") == []


async def test_a_follow(people, shards):
    alice, bob = await people("alice"), await people("bob")
    await ok(bob, "/@alice/follow")
    assert await notes(alice) == [Line("follow", True, "bob followed you", None, None)]
    assert await notes(bob) == []
    [row] = await stored(shards, "alice")
    assert (row.kind, row.actor_id, row.post_id) == ("follow", await account_id(shards, "bob"), 0)


async def test_likes_quote_the_post_and_gather_into_one_line(people, shards):
    alice, bob, carol, dave = [await people(n) for n in ("alice", "bob", "carol", "dave")]
    post = await say_id(shards, alice, "my <lovely> post & more")
    await ok(bob, f"/posts/{post}/like")
    assert await notes(alice) == [
        Line("like", True, "bob liked your post", "my <lovely> post & more", f"/@alice/{post}")
    ]

    await ok(carol, f"/posts/{post}/like")
    [line] = await notes(alice)
    assert line.kind == "like" and line.quoted == "my <lovely> post & more"
    assert re.fullmatch(r"(bob|carol) and 1 other liked your post", line.words), line.words

    await ok(dave, f"/posts/{post}/like")
    [line] = await notes(alice)
    assert re.fullmatch(r"(bob|carol|dave) and 2 others liked your post", line.words)
    assert len(await stored(shards, "alice")) == 3


async def test_names_and_quotes_are_escaped(people, shards):
    alice, bob = await people("alice"), await people("bob")
    response = await bob.submit(
        "/settings/profile",
        {"display_name": "<b>Bob</b> & co", "bio": "", "locale": "", "profile_color": "#1d9bf0"},
        page="/settings",
    )
    assert response.status_code == 303
    post = await say_id(shards, alice, "x <i>y</i> & z")
    await ok(bob, f"/posts/{post}/like")
    page = (await alice.get("/notifications")).text
    assert "<b>Bob</b>" not in page and "<i>y</i>" not in page
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; co" in page
    assert "x &lt;i&gt;y&lt;/i&gt; &amp; z" in page
    assert [(n.words, n.quoted) for n in lines(page)] == [
        ("<b>Bob</b> & co liked your post", "x <i>y</i> & z")
    ]


async def test_likes_of_different_posts_stay_apart(people, shards):
    alice, bob = await people("alice"), await people("bob")
    first = await say_id(shards, alice, "first post")
    second = await say_id(shards, alice, "second post")
    await ok(bob, f"/posts/{first}/like")
    await ok(bob, f"/posts/{second}/like")
    assert [(n.words, n.quoted) for n in await notes(alice)] == [
        ("bob liked your post", "second post"),
        ("bob liked your post", "first post"),
    ]


async def test_reposts_gather_too(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    post = await say_id(shards, alice, "share me")
    await ok(bob, f"/posts/{post}/repost")
    assert await notes(alice) == [
        Line("repost", True, "bob reposted your post", "share me", f"/@alice/{post}")
    ]
    await ok(carol, f"/posts/{post}/repost")
    [line] = await notes(alice)
    assert re.fullmatch(r"(bob|carol) and 1 other reposted your post", line.words)
    await ok(carol, f"/posts/{post}/unrepost")
    await ok(bob, f"/posts/{post}/unrepost")
    assert await notes(alice) == []


async def test_a_reply_and_a_mention(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    post = await say_id(shards, alice, "what do you think?")
    reply = await say_id(shards, bob, "@alice I think so", reply_to=post)
    # A reply names the person replied to: one line, a reply, not a mention as well.
    assert await notes(alice) == [
        Line("reply", True, "bob replied to you", "@alice I think so", f"/@bob/{reply}")
    ]
    mention = await say_id(shards, carol, "hello @alice and @bob")
    assert (await notes(alice))[0] == Line(
        "mention", True, "carol mentioned you", "hello @alice and @bob", f"/@carol/{mention}"
    )
    assert [(n.kind, n.words) for n in await notes(bob)] == [("mention", "carol mentioned you")]
    # Mentions and replies do not gather: each has its own words.
    await say_id(shards, carol, "@alice again")
    assert [n.words for n in await notes(alice)] == [
        "carol mentioned you",
        "carol mentioned you",
        "bob replied to you",
    ]


async def test_a_reply_reaches_the_author_even_without_naming_them(people, shards):
    alice, bob = await people("alice"), await people("bob")
    post = await say_id(shards, alice, "quiet thought")
    await say_id(shards, bob, "no names here", reply_to=post)
    assert [(n.kind, n.words, n.quoted) for n in await notes(alice)] == [
        ("reply", "bob replied to you", "no names here")
    ]


async def test_newest_first(people, shards):
    alice, bob, carol, dave, erin = [
        await people(n) for n in ("alice", "bob", "carol", "dave", "erin")
    ]
    post = await say_id(shards, alice, "a post")
    await ok(bob, "/@alice/follow")
    await ok(carol, f"/posts/{post}/like")
    await say_id(shards, dave, "@alice right", reply_to=post)
    await say_id(shards, erin, "look, @alice")
    assert [n.words for n in await notes(alice)] == [
        "erin mentioned you",
        "dave replied to you",
        "carol liked your post",
        "bob followed you",
    ]
    ids = [row.id for row in await stored(shards, "alice")]
    assert ids == sorted(ids, reverse=True) and len(ids) == 4


async def test_your_own_doings_tell_you_nothing(people, shards):
    alice = await people("alice")
    post = await say_id(shards, alice, "talking to myself, @alice")
    await ok(alice, f"/posts/{post}/like")
    await ok(alice, f"/posts/{post}/repost")
    await say_id(shards, alice, "@alice and again", reply_to=post)
    await send(alice, "/@alice/follow")  # refused; were it not, it would still tell nobody
    assert await notes(alice) == []
    assert await stored(shards, "alice") == []
    assert await unread_in_header(alice) == 0


# --- withdrawn when undone -------------------------------------------------------------------


async def test_unliking_withdraws_the_like(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    post = await say_id(shards, alice, "fickle")
    await ok(bob, f"/posts/{post}/like")
    await ok(carol, f"/posts/{post}/like")
    await ok(bob, f"/posts/{post}/unlike")
    assert [n.words for n in await notes(alice)] == ["carol liked your post"]
    await ok(carol, f"/posts/{post}/unlike")
    assert await notes(alice) == []
    assert await stored(shards, "alice") == []
    assert await unread_in_header(alice) == 0


async def test_unfollowing_withdraws_the_follow(people, shards):
    alice, bob = await people("alice"), await people("bob")
    await ok(bob, "/@alice/follow")
    await ok(bob, "/@alice/unfollow")
    assert await notes(alice) == []
    assert await stored(shards, "alice") == []
    await ok(bob, "/@alice/follow")  # following again tells again
    assert [(n.words, n.unread) for n in await notes(alice)] == [("bob followed you", True)]


async def test_deleting_a_post_withdraws_what_it_caused(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    liked = await say_id(shards, alice, "liked, then deleted")
    kept = await say_id(shards, alice, "kept")
    await ok(bob, f"/posts/{liked}/like")
    await ok(bob, f"/posts/{kept}/like")
    reply = await say_id(shards, bob, "@alice a reply", reply_to=kept)
    mention = await say_id(shards, carol, "@alice @bob a mention")
    assert len(await notes(alice)) == 4

    await ok(carol, f"/@carol/{mention}/delete")
    assert [n.words for n in await notes(alice)] == [
        "bob replied to you",
        "bob liked your post",
        "bob liked your post",
    ]
    assert await notes(bob) == []
    await ok(bob, f"/@bob/{reply}/delete")
    await ok(alice, f"/@alice/{liked}/delete")
    assert [(n.words, n.quoted) for n in await notes(alice)] == [("bob liked your post", "kept")]
    assert [row.post_id for row in await stored(shards, "alice")] == [kept]
    assert await unread_in_header(alice) == 0  # alice has seen it all (by opening the page)


# --- unread count ----------------------------------------------------------------------------


async def test_the_header_counts_unread_until_the_page_is_opened(people, shards):
    alice, bob, carol, dave = [await people(n) for n in ("alice", "bob", "carol", "dave")]
    post = await say_id(shards, alice, "count me")
    assert await unread_in_header(alice, "/") == 0
    await ok(bob, "/@alice/follow")
    await ok(bob, f"/posts/{post}/like")
    await say_id(shards, carol, "hi @alice")
    for path in ["/", "/settings", "/@alice", "/public", f"/@alice/{post}"]:
        assert await unread_in_header(alice, path) == 3, path
    assert await unread_in_header(bob, "/") == 0  # others' counts are their own

    page = await alice.get("/notifications")
    assert [(n.kind, n.unread) for n in lines(page.text)] == [
        ("mention", True),
        ("like", True),
        ("follow", True),
    ]
    assert badge(page.text) == 0  # this page shows them: nothing left unread
    assert await unread_in_header(alice, "/") == 0
    assert all(row.read for row in await stored(shards, "alice"))
    assert [n.unread for n in await notes(alice)] == [False, False, False]

    await ok(dave, f"/posts/{post}/like")
    assert await unread_in_header(alice, "/") == 1
    found = await notes(alice)
    assert [(n.kind, n.unread) for n in found] == [
        ("like", True),
        ("mention", False),
        ("follow", False),
    ]
    assert re.fullmatch(r"(bob|dave) and 1 other liked your post", found[0].words)
    assert await unread_in_header(alice, "/") == 0


async def test_the_header_caps_the_count_at_99_plus(people, shards):
    alice, bob = await people("alice"), await people("bob")
    for i in range(99):
        await say_id(shards, bob, f"@alice {i}")
    assert await unread_in_header(alice) == 99
    await say_id(shards, bob, "@alice 99")
    page = (await alice.get("/")).text
    assert '<span class="badge" data-unread>99+</span>' in page
    await say_id(shards, bob, "@alice 100")
    assert await unread_in_header(alice) == 100  # "99+"
    await alice.get("/notifications")
    assert await unread_in_header(alice) == 0
    assert len(await stored(shards, "alice")) == 101
    assert all(row.read for row in await stored(shards, "alice"))


async def test_an_older_page_does_not_mark_anything_read(people, shards):
    alice, bob = await people("alice"), await people("bob")
    await say_id(shards, bob, "@alice one")
    await say_id(shards, bob, "@alice two")
    newest = (await stored(shards, "alice"))[0]
    response = await alice.get(f"/notifications?max_id={newest.id}")
    assert response.status_code == 200
    assert [n.quoted for n in lines(response.text)] == ["@alice one"]
    assert await unread_in_header(alice) == 2


# --- paging ----------------------------------------------------------------------------------


async def test_45_followers_page_into_40_and_5(people, shards):
    alice = await people("alice")
    for i in range(45):
        await ok(await people(f"f{i:02d}"), "/@alice/follow")
    rows = await stored(shards, "alice")
    assert len(rows) == 45

    first = await alice.get("/notifications")
    [line] = lines(first.text)
    named, rest = line.words.split(" and ", 1)
    assert rest == "39 others followed you"
    assert named in {f"f{i:02d}" for i in range(5, 45)}  # one of the newest 40
    older = OLDER_RE.search(first.text)
    assert older and int(older.group(1)) == rows[39].id

    second = await alice.get(f"/notifications?max_id={older.group(1)}")
    assert second.status_code == 200
    [line] = lines(second.text)
    named, rest = line.words.split(" and ", 1)
    assert rest == "4 others followed you"
    assert named in {f"f{i:02d}" for i in range(5)}  # one of the oldest 5
    assert OLDER_RE.search(second.text) is None


async def test_paging_single_lines_has_no_gaps_or_overlaps(people, shards):
    alice, bob = await people("alice"), await people("bob")
    for i in range(45):
        await say_id(shards, bob, f"@alice number {i}")
    first = await alice.get("/notifications")
    older = OLDER_RE.search(first.text)
    assert older
    second = await alice.get(f"/notifications?max_id={older.group(1)}")
    assert OLDER_RE.search(second.text) is None
    assert [n.quoted for n in lines(first.text)] == [f"@alice number {i}" for i in range(44, 4, -1)]
    assert [n.quoted for n in lines(second.text)] == [
        f"@alice number {i}" for i in range(4, -1, -1)
    ]
    # Opening the first page marked every one read, the older page's too.
    again = await alice.get(f"/notifications?max_id={older.group(1)}")
    assert [n.unread for n in lines(again.text)] == [False] * 5
    assert await unread_in_header(alice) == 0


async def test_a_bad_cursor_is_a_400(people):
    alice = await people("alice")
    for query in ["max_id=abc", "max_id=0", "max_id=-5", f"max_id={1 << 63}"]:
        response = await alice.get(f"/notifications?{query}")
        assert response.status_code == 400, query


# --- live streams ----------------------------------------------------------------------------


class EventStream:
    """An SSE response read as it arrives, through the app's ASGI interface: httpx's
    ASGITransport waits for the whole body, which an endless stream never finishes."""

    def __init__(self, app, path: str, person=None) -> None:
        self.app = app
        self.path = path
        cookies = person.client.cookies.items() if person else []
        self.cookie = "; ".join(f"{name}={value}" for name, value in cookies)
        self.messages: asyncio.Queue[dict] = asyncio.Queue()
        self.gone = asyncio.Event()
        self.buffer = ""
        self.status = 0
        self.headers: dict[str, str] = {}

    async def __aenter__(self) -> EventStream:
        headers = [(b"host", b"testserver"), (b"accept", b"text/event-stream")]
        if self.cookie:
            headers.append((b"cookie", self.cookie.encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }
        asked = False

        async def receive() -> dict:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self.gone.wait()
            return {"type": "http.disconnect"}

        async def send_(message: dict) -> None:
            await self.messages.put(message)

        self.task = asyncio.create_task(self.app(scope, receive, send_))
        start = await asyncio.wait_for(self.messages.get(), WAIT)
        assert start["type"] == "http.response.start"
        self.status = start["status"]
        self.headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
        return self

    async def __aexit__(self, *exc_info) -> None:
        self.gone.set()
        await asyncio.wait_for(self.task, WAIT)

    async def event(self, within: float = WAIT) -> tuple[str, dict]:
        """The next event's name and data, skipping comments (keep-alive pings)."""
        while True:
            self.buffer = self.buffer.replace("\r\n", "\n")
            if "\n\n" in self.buffer:
                block, self.buffer = self.buffer.split("\n\n", 1)
                fields = {}
                for row in block.split("\n"):
                    if row and not row.startswith(":"):
                        name, _, value = row.partition(":")
                        fields[name] = value.removeprefix(" ")
                if "event" in fields or "data" in fields:
                    return fields.get("event", "message"), json.loads(fields.get("data", "{}"))
                continue
            message = await asyncio.wait_for(self.messages.get(), within)
            assert message["type"] == "http.response.body", message
            self.buffer += message.get("body", b"").decode()

    async def nothing_more(self) -> bool:
        """True when no event is waiting (nothing can come without this test acting)."""
        await asyncio.sleep(0.05)
        try:
            await self.event(within=0.05)
        except TimeoutError:
            return True
        return False


async def test_anonymous_home_and_notification_streams_go_to_login(people):
    visitor = await people()
    for path in ["/stream/home", "/stream/notifications"]:
        response = await visitor.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/login?next={path}"


async def test_the_public_stream_announces_new_posts(app, people, shards):
    alice, bob = await people("alice"), await people("bob")
    old = await say_id(shards, alice, "before the stream")
    async with EventStream(app, "/stream/public") as stream:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert await stream.event() == ("ready", {})
        post = await say_id(shards, bob, "live from bob")
        assert await stream.event() == ("post", {"post_id": str(post)})
        await ok(alice, f"/posts/{old}/repost")  # reposts are not news to everyone
        await ok(alice, f"/posts/{post}/like")
        reply = await say_id(shards, alice, "live reply", reply_to=post)
        assert await stream.event() == ("post", {"post_id": str(reply)})
        assert await stream.nothing_more()


async def test_the_public_stream_leaves_out_spammers_and_the_viewer_s_muted(app, people, shards):
    alice, bob, spammer = await people("alice"), await people("bob"), await people("spammer")
    flagged = await accounts.get_by_username(shards, "spammer")
    await moderation.mark_spam(shards, None, flagged, True, "watches")
    await ok(alice, "/@bob/mute")
    async with (
        EventStream(app, "/stream/public", alice) as alices,
        EventStream(app, "/stream/public") as anonymous,
    ):
        assert await alices.event() == ("ready", {}) == await anonymous.event()
        await say_id(shards, spammer, "buy cheap watches")  # the public page leaves it out
        muted = await say_id(shards, bob, "alice muted me")
        assert await anonymous.event() == ("post", {"post_id": str(muted)})
        own = await say_id(shards, alice, "mine")
        for stream in (alices, anonymous):
            assert await stream.event() == ("post", {"post_id": str(own)})
        # Unmuting while the stream is open: bob's posts count again from then on.
        await ok(alice, "/@bob/unmute")
        later = await say_id(shards, bob, "unmuted")
        for stream in (alices, anonymous):
            assert await stream.event() == ("post", {"post_id": str(later)})
            assert await stream.nothing_more()


async def test_the_home_stream_announces_followed_posts_only(app, people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    await ok(alice, "/@bob/follow")
    async with EventStream(app, "/stream/home", alice) as stream:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert await stream.event() == ("ready", {})
        stranger = await say_id(shards, carol, "alice does not follow me")
        followed = await say_id(shards, bob, "alice follows me")
        assert await stream.event() == ("post", {"post_id": str(followed)})
        own = await say_id(shards, alice, "my own")
        assert await stream.event() == ("post", {"post_id": str(own)})
        # A repost by someone followed brings the original, by id.
        await ok(bob, f"/posts/{stranger}/repost")
        assert await stream.event() == ("post", {"post_id": str(stranger)})
        # Following someone while the stream is open: their posts come from then on.
        await ok(alice, "/@carol/follow")
        later = await say_id(shards, carol, "now alice follows me")
        assert await stream.event() == ("post", {"post_id": str(later)})
        assert await stream.nothing_more()


async def test_the_notification_stream_sends_the_unread_count(app, people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    post = await say_id(shards, alice, "tell me")
    async with EventStream(app, "/stream/notifications", alice) as stream:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert await stream.event() == ("ready", {})
        await ok(alice, f"/posts/{post}/like")  # her own like tells her nothing
        await ok(bob, f"/posts/{post}/like")
        assert await stream.event() == ("notifications", {"unread": 1})
        await ok(carol, "/@alice/follow")
        assert await stream.event() == ("notifications", {"unread": 2})
        await say_id(shards, bob, "@alice hey")
        assert await stream.event() == ("notifications", {"unread": 3})
        assert await stream.nothing_more()


async def test_the_broker_carries_posts_and_notifications(app, people, shards):
    alice, bob = await people("alice"), await people("bob")
    alice_id, bob_id = await account_id(shards, "alice"), await account_id(shards, "bob")
    broker = app.state.services.broker
    async with (
        broker.subscribe("posts") as posts_queue,
        broker.subscribe(f"notifications:{alice_id}") as alice_queue,
        broker.subscribe(f"notifications:{bob_id}") as bob_queue,
    ):
        post = await say_id(shards, alice, "on the wire")
        event = await asyncio.wait_for(posts_queue.get(), WAIT)
        assert (event["type"], event["post_id"], event["author_id"]) == ("post", post, alice_id)
        assert not event.get("repost")

        await ok(bob, f"/posts/{post}/like")
        event = await asyncio.wait_for(alice_queue.get(), WAIT)
        assert event["type"] == "notification"

        await ok(bob, f"/posts/{post}/repost")
        assert (await asyncio.wait_for(alice_queue.get(), WAIT))["type"] == "notification"
        event = await asyncio.wait_for(posts_queue.get(), WAIT)
        assert (event["post_id"], event["author_id"], event["repost"]) == (post, bob_id, True)

        await ok(alice, f"/posts/{post}/like")  # nobody is told of their own like
        await ok(bob, f"/posts/{post}/unlike")  # nor of a withdrawal
        await asyncio.sleep(0.05)
        assert alice_queue.empty() and bob_queue.empty() and posts_queue.empty()


# --- the new-entries fragment ----------------------------------------------------------------


async def test_the_fragment_has_only_the_newer_entries(people, shards):
    alice, bob = await people("alice"), await people("bob")
    visitor = await people()
    await ok(alice, "/@bob/follow")
    first = await say_id(shards, alice, "first")
    await asyncio.sleep(0.002)
    second = await say_id(shards, bob, "second")
    await asyncio.sleep(0.002)
    third = await say_id(shards, alice, "third")

    for who, path in [(alice, "/"), (visitor, "/"), (visitor, "/public")]:
        response = await who.get(f"{path}?since_id={first}&fragment=entries")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        body = response.text
        assert "<html" not in body and "<body" not in body and 'class="topbar"' not in body
        assert body.strip().startswith("<article") and body.strip().endswith("</article>")
        assert post_ids(body) == [third, second], path
        assert body.count("<article") == 2

        response = await who.get(f"{path}?since_id={third}&fragment=entries")
        assert response.status_code == 200
        assert response.text.strip() == ""

    # Without the fragment flag, since_id gives the whole page, newer posts only.
    page = (await alice.get(f"/?since_id={first}")).text
    assert "<html" in page and post_ids(page) == [third, second]
    # Entries are the viewer's: alice's fragment has her buttons.
    body = (await alice.get(f"/?since_id={first}&fragment=entries")).text
    assert f'action="/posts/{second}/like"' in body
