"""Posting, replies and threads, deleting, and permalinks, over HTTP on every backend."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select
from web_support import account_id, send

from conftest import post_ids
from twoorl.accounts import service as accounts
from twoorl.ids import compose, timestamp_ms_of
from twoorl.posts import service as posts_service
from twoorl.posts.tables import mentions, post_tags, posts, replies
from twoorl.storage.shards import ShardSet

GONE = "That post does not exist, or it was deleted."
REPLY_PARENT_GONE = "The post you are replying to no longer exists."
TEXTAREA_RE = re.compile(r'<textarea id="status"[^>]*>(.*?)</textarea>', re.DOTALL)
COUNT_RE = re.compile(r'href="/@\w+(/following|/followers)?"><strong>([\d,]+)</strong>')


# --- helpers ---------------------------------------------------------------------------------


async def say(person, text: str, reply_to: int | str | None = None, next: str | None = None):
    data = {"status": text}
    if reply_to is not None:
        data["in_reply_to_id"] = str(reply_to)
    if next is not None:
        data["next"] = next
    return await send(person, "/posts", data)


async def posts_by(shards: ShardSet, username: str) -> list[int]:
    """The author's post ids as stored, newest first."""
    author = await account_id(shards, username)
    async with shards.for_id(author).read() as conn:
        found = await conn.execute(
            select(posts.c.id).where(posts.c.author_id == author).order_by(posts.c.id.desc())
        )
        return list(found.scalars())


async def say_id(shards: ShardSet, person, text: str, reply_to: int | None = None) -> int:
    before = set(await posts_by(shards, person.username))
    response = await say(person, text, reply_to)
    assert response.status_code == 303, response.text
    new = [i for i in await posts_by(shards, person.username) if i not in before]
    assert len(new) == 1, new
    return new[0]


async def rows(shards: ShardSet, table, *where) -> list:
    found = []
    for shard in shards.shards:
        async with shard.read() as conn:
            found.extend((await conn.execute(select(table).where(*where))).all())
    return found


async def pending_jobs(shards: ShardSet) -> list:
    from twoorl.jobs.tables import jobs

    return await rows(shards, jobs)


def counts(page: str) -> dict[str, int]:
    names = {"": "posts", "/following": "following", "/followers": "followers"}
    return {names[k]: int(v.replace(",", "")) for k, v in COUNT_RE.findall(page)}


def textarea(page: str) -> str:
    match = TEXTAREA_RE.search(page)
    assert match, "no compose box on the page"
    return html.unescape(match.group(1))


def replies_section(page: str) -> str:
    return page.split('<section class="replies"', 1)[1]


def thread_section(page: str) -> str:
    return page.split('<section class="thread"', 1)[1].split("</section>", 1)[0]


def absent_id(existing: int) -> int:
    """A well-formed id on the same logical shard that nobody minted."""
    return compose(timestamp_ms_of(existing) - 1, (existing >> 12) & 1023, 4095)


# --- posting ---------------------------------------------------------------------------------


async def test_post_shows_on_home_public_profile_and_permalink(people, shards):
    alice = await people("alice")
    visitor = await people()
    response = await say(alice, "Hello from Alice, first post")
    assert response.status_code == 303
    assert response.headers["location"] == "/"

    [post_id] = await posts_by(shards, "alice")
    stored = await posts_service.get_post(shards, post_id)
    assert stored is not None and stored.text == "Hello from Alice, first post"
    assert stored.author_id == await account_id(shards, "alice")

    for who, path in [(alice, "/"), (alice, "/public"), (visitor, "/public"), (visitor, "/@alice")]:
        page = await who.get(path)
        assert page.status_code == 200, path
        assert post_ids(page.text) == [post_id], path
        assert "Hello from Alice, first post" in page.text, path
    permalink = await visitor.get(f"/@alice/{post_id}")
    assert permalink.status_code == 200
    assert post_ids(permalink.text) == [post_id]
    assert "Hello from Alice, first post" in permalink.text
    assert counts((await visitor.get("/@alice")).text)["posts"] == 1


async def test_post_text_is_stripped_of_surrounding_whitespace(people, shards):
    alice = await people("alice")
    post_id = await say_id(shards, alice, "  \n  spaced out \r\n ")
    assert (await posts_service.get_post(shards, post_id)).text == "spaced out"


async def test_post_text_is_escaped_everywhere(people, shards):
    alice = await people("alice")
    evil = '<script>alert(1)</script> <img src=x onerror="alert(2)"> & done'
    post_id = await say_id(shards, alice, evil)
    assert (await posts_service.get_post(shards, post_id)).text == evil
    await say_id(shards, alice, evil, reply_to=post_id)
    for path in ["/", "/public", "/@alice", f"/@alice/{post_id}"]:
        page = (await alice.get(path)).text
        assert "<script>alert(1)</script>" not in page, path
        assert "<img src=x" not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
        assert "&lt;img src=x onerror=" in page, path


async def test_urls_mentions_and_hashtags_become_links(people, shards):
    await people("bob")
    alice = await people("alice")
    post_id = await say_id(
        shards, alice, "Read https://example.com/a_page?q=1&x=2. cc @bob #Python ok"
    )
    page = (await alice.get("/@alice")).text
    assert (
        '<a href="https://example.com/a_page?q=1&amp;x=2" rel="nofollow noopener" '
        'target="_blank">example.com/a_page?q=1&amp;x=2</a>. cc' in page
    )
    assert '<a class="mention" href="/@bob">@bob</a>' in page
    assert '<a class="hashtag" href="/tags/python">#Python</a> ok' in page
    # The links lead somewhere real.
    assert (await alice.get("/@bob")).status_code == 200
    assert post_ids((await alice.get("/tags/python")).text) == [post_id]


async def test_javascript_urls_are_not_linked(people, shards):
    alice = await people("alice")
    post_id = await say_id(shards, alice, "click javascript:alert(1) or http://ok.example/")
    page = (await alice.get("/@alice")).text
    assert post_ids(page) == [post_id]
    assert 'href="javascript:' not in page
    assert '<a href="http://ok.example/" rel="nofollow noopener"' in page


@pytest.mark.parametrize("text", ["", "   ", " \r\n\t  \n"])
async def test_empty_post_is_refused_and_home_rerendered(people, shards, text):
    alice = await people("alice")
    response = await say(alice, text)
    assert response.status_code == 422
    assert "Write something first" in response.text
    assert "<h1>Home</h1>" in response.text
    assert 'aria-invalid="true"' in response.text
    assert await posts_by(shards, "alice") == []
    assert post_ids((await alice.get("/public")).text) == []


async def test_too_long_post_is_refused_and_text_kept(people, shards):
    alice = await people("alice")
    text = "a" * 141
    response = await say(alice, text)
    assert response.status_code == 422
    assert "That post is 1 character too long (the limit is 140)." in response.text
    assert "<h1>Home</h1>" in response.text
    assert textarea(response.text) == text
    assert await posts_by(shards, "alice") == []


async def test_too_long_text_is_kept_escaped_in_the_textarea(people, shards):
    alice = await people("alice")
    text = "</textarea><script>alert(1)</script>" + "x" * 120
    response = await say(alice, text)
    assert response.status_code == 422
    assert "That post is 16 characters too long (the limit is 140)." in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert textarea(response.text) == text
    assert await posts_by(shards, "alice") == []


async def test_exactly_the_limit_is_accepted(people, shards):
    alice = await people("alice")
    post_id = await say_id(shards, alice, "b" * 140)
    page = (await alice.get("/@alice")).text
    assert post_ids(page) == [post_id]
    assert "b" * 140 in page


async def test_a_url_counts_as_23_characters(people, shards):
    alice = await people("alice")
    url = "https://example.com/" + "p" * 180
    assert len(url) == 200
    short = await say_id(shards, alice, f"see {url}")
    page = (await alice.get("/@alice")).text
    assert post_ids(page) == [short]
    assert f'<a href="{url}" rel="nofollow noopener"' in page
    # 116 + 1 + 23 = 140 fits; 117 + 1 + 23 = 141 does not.
    await say_id(shards, alice, "x" * 116 + " " + url)
    response = await say(alice, "y" * 117 + " " + url)
    assert response.status_code == 422
    assert "1 character too long" in response.text
    assert len(await posts_by(shards, "alice")) == 2


async def test_emoji_with_modifiers_count_as_one_character(people, shards):
    alice = await people("alice")
    thumbs = "\N{THUMBS UP SIGN}\N{EMOJI MODIFIER FITZPATRICK TYPE-4}"
    post_id = await say_id(shards, alice, thumbs * 140)
    assert (await posts_service.get_post(shards, post_id)).text == thumbs * 140
    assert thumbs * 140 in (await alice.get("/@alice")).text
    response = await say(alice, thumbs * 141)
    assert response.status_code == 422
    assert "That post is 1 character too long" in response.text
    assert textarea(response.text) == thumbs * 141
    family = "\N{MAN}\u200d\N{WOMAN}\u200d\N{GIRL}"
    await say_id(shards, alice, family * 140)
    assert len(await posts_by(shards, "alice")) == 2


class TestShorterLimit:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, object]:
        return {"max_post_length": 10}

    async def test_the_limit_follows_the_setting(self, people, shards):
        alice = await people("alice")
        home = (await alice.get("/")).text
        assert 'data-max-length="10"' in home
        await say_id(shards, alice, "0123456789")
        response = await say(alice, "0123456789A")
        assert response.status_code == 422
        assert "That post is 1 character too long (the limit is 10)." in response.text
        response = await say(alice, "0123456789ABC")
        assert "That post is 3 characters too long (the limit is 10)." in response.text
        assert len(await posts_by(shards, "alice")) == 1


async def test_control_characters_are_not_a_server_error(people, shards):
    """Regression: a NUL reached PostgreSQL, which refuses it in text (500)."""
    alice = await people("alice")
    response = await say(alice, "before\x00after\x07!")
    assert response.status_code == 303  # posted, without the control characters
    [post_id] = await posts_by(shards, "alice")
    assert (await posts_service.get_post(shards, post_id)).text == "beforeafter!"
    assert (await alice.get("/public")).status_code == 200
    assert "\x00" not in (await alice.get("/@alice")).text
    response = await say(alice, "\x00\x01 \x7f")  # nothing visible left
    assert response.status_code == 422
    assert "Write something first" in response.text


async def test_hashtag_that_grows_when_case_folded(people, shards):
    """Regression: '#' + 'ß' * 100 folds to 200 characters, past post_tags.tag VARCHAR(100),
    which PostgreSQL refused (500)."""
    alice = await people("alice")
    response = await say(alice, "#" + "ß" * 100)
    assert response.status_code == 303
    [post_id] = await posts_by(shards, "alice")
    assert all(len(r.tag) <= 100 for r in await rows(shards, post_tags))
    assert post_ids((await alice.get("/@alice")).text) == [post_id]
    # A tag that still fits after folding is kept.
    fits = await say_id(shards, alice, "#" + "ß" * 50)
    assert post_ids((await alice.get("/tags/" + "ss" * 50)).text) == [fits]


# --- replies and threads ---------------------------------------------------------------------


async def test_reply_shows_under_its_parent(people, shards):
    alice, bob = await people("alice"), await people("bob")
    parent = await say_id(shards, alice, "What should I cook tonight?")
    response = await say(bob, "@alice pasta!", reply_to=parent, next=f"/@alice/{parent}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/@alice/{parent}"
    [reply] = await posts_by(shards, "bob")
    stored = await posts_service.get_post(shards, reply)
    assert stored.in_reply_to_id == parent
    assert stored.in_reply_to_account_id == await account_id(shards, "alice")
    assert [tuple(r) for r in await rows(shards, replies, replies.c.parent_id == parent)] == [
        (parent, reply)
    ]

    page = await bob.get(f"/@alice/{parent}")
    assert page.status_code == 200
    assert "<h2>1 reply</h2>" in page.text
    assert post_ids(thread_section(page.text)) == [parent]
    assert post_ids(replies_section(page.text)) == [reply]
    assert "pasta!" in replies_section(page.text)
    # Wherever the reply is listed, it says whom it answers.
    for path in ["/@bob", "/public", "/"]:
        listed = (await bob.get(path)).text
        assert f'Replying to <a href="/@alice/{parent}">@alice</a>' in listed, path


async def test_replies_are_listed_oldest_first(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    parent = await say_id(shards, alice, "Poll: tea or coffee?")
    first = await say_id(shards, bob, "tea", reply_to=parent)
    second = await say_id(shards, carol, "coffee", reply_to=parent)
    third = await say_id(shards, alice, "both, then", reply_to=parent)
    page = (await carol.get(f"/@alice/{parent}")).text
    assert "<h2>3 replies</h2>" in page
    assert post_ids(replies_section(page)) == [first, second, third]


async def test_a_chain_shows_its_ancestors_in_order(people, shards):
    alice, bob, carol, dave = [await people(n) for n in ("alice", "bob", "carol", "dave")]
    one = await say_id(shards, alice, "one")
    two = await say_id(shards, bob, "two", reply_to=one)
    three = await say_id(shards, carol, "three", reply_to=two)
    four = await say_id(shards, dave, "four", reply_to=three)

    page = (await alice.get(f"/@carol/{three}")).text
    assert post_ids(thread_section(page)) == [one, two, three]
    assert post_ids(replies_section(page)) == [four]
    assert f'Replying to <a href="/@bob/{two}">@bob</a>' in thread_section(page)

    middle = (await alice.get(f"/@bob/{two}")).text
    assert post_ids(thread_section(middle)) == [one, two]
    assert post_ids(replies_section(middle)) == [three]  # direct replies only

    top = (await alice.get(f"/@alice/{one}")).text
    assert post_ids(thread_section(top)) == [one]
    assert post_ids(replies_section(top)) == [two]


async def test_permalink_of_a_post_without_replies(people, shards):
    alice, bob = await people("alice"), await people("bob")
    post_id = await say_id(shards, alice, "Nobody answers me")
    page = await bob.get(f"/@alice/{post_id}")
    assert page.status_code == 200
    assert post_ids(thread_section(page.text)) == [post_id]
    assert "<h2>0 replies</h2>" in page.text
    assert textarea(page.text) == "@alice "  # the reply box starts with a mention
    assert textarea((await alice.get(f"/@alice/{post_id}")).text) == ""


async def test_a_replys_permalink_shows_its_ancestors_above_it(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    one = await say_id(shards, alice, "one")
    two = await say_id(shards, bob, "two", reply_to=one)
    three = await say_id(shards, carol, "three", reply_to=two)
    page = await alice.get(f"/@carol/{three}")
    assert page.status_code == 200
    assert post_ids(thread_section(page.text)) == [one, two, three]
    assert f'Replying to <a href="/@bob/{two}">@bob</a>' in page.text


async def test_reply_to_a_missing_or_deleted_post_is_refused(people, shards):
    alice, bob = await people("alice"), await people("bob")
    parent = await say_id(shards, alice, "soon gone")
    response = await say(bob, "hello?", reply_to=absent_id(parent))
    assert response.status_code == 404
    assert REPLY_PARENT_GONE in response.text
    assert textarea(response.text) == "hello?"  # what was typed is not lost
    for missing in ["99999999999999999999999", "0", "-3", "12abc"]:
        response = await say(bob, "hello?", reply_to=missing)
        assert response.status_code == 404, missing
        assert REPLY_PARENT_GONE in response.text, missing
    assert (await send(alice, f"/@alice/{parent}/delete")).status_code == 303
    response = await say(bob, "too late", reply_to=parent)
    assert response.status_code == 404
    assert REPLY_PARENT_GONE in response.text
    assert await posts_by(shards, "bob") == []


async def test_a_bad_reply_rerenders_the_permalink_with_the_error(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    parent = await say_id(shards, alice, "Say something nice")
    earlier = await say_id(shards, carol, "you look nice", reply_to=parent)
    response = await say(bob, "   ", reply_to=parent)
    assert response.status_code == 422
    assert "Write something first" in response.text
    assert post_ids(thread_section(response.text)) == [parent]
    assert post_ids(replies_section(response.text)) == [earlier]
    assert f'name="in_reply_to_id" value="{parent}"' in response.text
    response = await say(bob, "z" * 150, reply_to=parent)
    assert response.status_code == 422
    assert "That post is 10 characters too long" in response.text
    assert textarea(response.text) == "z" * 150
    assert await posts_by(shards, "bob") == []


async def test_a_bad_reply_to_a_post_without_replies(people, shards):
    alice, bob = await people("alice"), await people("bob")
    parent = await say_id(shards, alice, "First!")
    response = await say(bob, "", reply_to=parent)
    assert response.status_code == 422
    assert "Write something first" in response.text


async def test_the_person_replied_to_sees_the_reply_in_mentions(people, shards):
    alice, bob = await people("alice"), await people("bob")
    parent = await say_id(shards, alice, "Anyone around?")
    reply = await say_id(shards, bob, "yes, me", reply_to=parent)  # no @alice in the text
    mentions_page = await alice.get("/mentions")
    assert mentions_page.status_code == 200
    assert post_ids(mentions_page.text) == [reply]
    alice_id, bob_id = await account_id(shards, "alice"), await account_id(shards, "bob")
    assert [r.post_id for r in await rows(shards, mentions, mentions.c.account_id == alice_id)] == [
        reply
    ]
    # The replier is not told about their own reply.
    assert await rows(shards, mentions, mentions.c.account_id == bob_id) == []


async def test_a_mention_reaches_only_the_mentioned_person(people, shards):
    alice, carol, dave = await people("alice"), await people("carol"), await people("dave")
    other = await say_id(shards, alice, "and @dave too")
    post_id = await say_id(shards, alice, "lunch with @Carol today")
    carol_page = await carol.get("/mentions")
    assert post_ids(carol_page.text) == [post_id]
    assert "lunch with" in carol_page.text
    assert post_ids((await dave.get("/mentions")).text) == [other]
    mentioned = {r.account_id for r in await rows(shards, mentions, mentions.c.post_id == post_id)}
    assert mentioned == {await account_id(shards, "carol")}


async def test_nobody_mentioned_shows_the_empty_message(people, shards):
    alice, dave = await people("alice"), await people("dave")
    await say_id(shards, alice, "lunch with @alice, not dave")
    page = await dave.get("/mentions")
    assert page.status_code == 200
    assert "Nobody has mentioned you yet." in page.text


async def test_mentioning_nobody_is_harmless(people, shards):
    alice = await people("alice")
    post_id = await say_id(shards, alice, "hi @nobody_here and @alice")
    page = (await alice.get("/@alice")).text
    assert post_ids(page) == [post_id]
    assert '<a class="mention" href="/@nobody_here">@nobody_here</a>' in page
    assert (await alice.get("/@nobody_here")).status_code == 404
    assert await rows(shards, mentions) == []  # nobody to tell; the author is not told
    assert await pending_jobs(shards) == []  # the background job did not fail


async def test_anonymous_visitors_cannot_post(people, shards):
    visitor = await people()
    response = await visitor.submit("/posts", {"status": "drive-by"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert post_ids((await visitor.get("/public")).text) == []


# --- deleting --------------------------------------------------------------------------------


async def test_author_deletes_a_post_and_it_is_gone_everywhere(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    parent = await say_id(shards, bob, "bob's thread")
    other_reply = await say_id(shards, carol, "carol was here", reply_to=parent)
    keep = await say_id(shards, alice, "a post that stays, hi @bob @carol #doomed")
    doomed = await say_id(shards, alice, "hey @carol #doomed", reply_to=parent)

    # Everything is in place before the delete.
    assert counts((await alice.get("/@alice")).text)["posts"] == 2
    assert post_ids((await carol.get("/mentions")).text) == [doomed, keep]
    assert post_ids((await bob.get("/mentions")).text) == [doomed, keep, other_reply]
    assert post_ids(replies_section((await bob.get(f"/@bob/{parent}")).text)) == [
        other_reply,
        doomed,
    ]
    assert post_ids((await bob.get("/tags/doomed")).text) == [doomed, keep]

    response = await send(alice, f"/@alice/{doomed}/delete")
    assert response.status_code == 303
    assert response.headers["location"] == "/@alice"

    assert post_ids((await alice.get("/")).text) == [keep]
    assert post_ids((await alice.get("/public")).text) == [keep, other_reply, parent]
    profile = (await alice.get("/@alice")).text
    assert post_ids(profile) == [keep]
    assert counts(profile)["posts"] == 1
    gone = await alice.get(f"/@alice/{doomed}")
    assert gone.status_code == 404
    assert GONE in gone.text
    assert post_ids((await carol.get("/mentions")).text) == [keep]
    assert post_ids((await bob.get("/mentions")).text) == [keep, other_reply]
    parent_page = (await bob.get(f"/@bob/{parent}")).text
    assert "<h2>1 reply</h2>" in parent_page
    assert post_ids(replies_section(parent_page)) == [other_reply]
    assert post_ids((await bob.get("/tags/doomed")).text) == [keep]

    # And in storage, not just on the pages.
    assert await posts_service.get_post(shards, doomed) is None
    assert await rows(shards, mentions, mentions.c.post_id == doomed) == []
    assert await rows(shards, replies, replies.c.reply_id == doomed) == []
    assert await rows(shards, post_tags, post_tags.c.post_id == doomed) == []
    assert (await accounts.counts_for(shards, await account_id(shards, "alice"))).posts == 1
    assert await pending_jobs(shards) == []


async def test_delete_from_the_permalink_goes_back_to_the_profile(people, shards):
    alice = await people("alice")
    post_id = await say_id(shards, alice, "short-lived")
    response = await send(alice, f"/@alice/{post_id}/delete", {"next": f"/@alice/{post_id}"})
    assert response.status_code == 303
    assert response.headers["location"] == "/@alice"
    assert await posts_by(shards, "alice") == []


async def test_someone_else_cannot_delete_a_post(people, shards):
    alice, bob = await people("alice"), await people("bob")
    post_id = await say_id(shards, alice, "mine, all mine")
    delete_button = f'action="/@alice/{post_id}/delete"'
    assert delete_button in (await alice.get("/@alice")).text
    assert delete_button not in (await bob.get("/@alice")).text
    response = await send(bob, f"/@alice/{post_id}/delete")
    assert response.status_code == 403
    assert "You can only delete your own posts." in response.text
    assert await posts_by(shards, "alice") == [post_id]
    assert (await bob.get(f"/@alice/{post_id}")).status_code == 200
    profile = (await bob.get("/@alice")).text
    assert post_ids(profile) == [post_id]
    assert counts(profile)["posts"] == 1


async def test_delete_under_the_wrong_username_is_404(people, shards):
    alice, bob = await people("alice"), await people("bob")
    post_id = await say_id(shards, alice, "under my name only")
    for who, path in [
        (alice, f"/@bob/{post_id}/delete"),
        (bob, f"/@bob/{post_id}/delete"),
        (alice, f"/@nobody_here/{post_id}/delete"),
        (alice, f"/@alice/{absent_id(post_id)}/delete"),
        (alice, "/@alice/notanumber/delete"),
        (alice, "/@alice/99999999999999999999999/delete"),
    ]:
        response = await send(who, path)
        assert response.status_code == 404, path
        assert GONE in response.text
    assert await posts_by(shards, "alice") == [post_id]
    assert counts((await alice.get("/@alice")).text)["posts"] == 1


async def test_anonymous_delete_goes_to_login(people, shards):
    alice, visitor = await people("alice"), await people()
    post_id = await say_id(shards, alice, "still here")
    response = await visitor.submit(f"/@alice/{post_id}/delete")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert await posts_by(shards, "alice") == [post_id]


async def test_deleting_a_parent_keeps_the_reply(people, shards):
    alice, bob = await people("alice"), await people("bob")
    parent = await say_id(shards, alice, "parent")
    reply = await say_id(shards, bob, "child", reply_to=parent)
    assert (await send(alice, f"/@alice/{parent}/delete")).status_code == 303
    assert await posts_by(shards, "bob") == [reply]
    assert post_ids((await bob.get("/@bob")).text) == [reply]
    assert post_ids((await bob.get("/public")).text) == [reply]
    page = await bob.get(f"/@bob/{reply}")
    assert page.status_code == 200
    assert post_ids(thread_section(page.text)) == [reply]  # the missing parent is skipped


# --- permalink errors ------------------------------------------------------------------------


async def test_permalink_errors_are_404(people, shards):
    alice, bob = await people("alice"), await people("bob")
    alice_post = await say_id(shards, alice, "alice's")
    bob_post = await say_id(shards, bob, "bob's")
    for path in [
        f"/@alice/{bob_post}",
        f"/@bob/{alice_post}",
        f"/@nobody_here/{alice_post}",
        f"/@alice/{absent_id(alice_post)}",
        "/@alice/notanumber",
        "/@alice/-1",
        "/@alice/0",
        "/@alice/99999999999999999999999",
        f"/@alice/{alice_post}.5",
    ]:
        response = await bob.get(path)
        assert response.status_code == 404, path
        assert GONE in response.text, path


async def test_permalink_with_a_reply_is_found_under_any_case_of_the_username(people, shards):
    alice, bob = await people("alice"), await people("bob")
    post_id = await say_id(shards, alice, "alice's")
    await say_id(shards, bob, "hi", reply_to=post_id)
    for path in [f"/@alice/{post_id}", f"/@ALICE/{post_id}"]:
        response = await bob.get(path)
        assert response.status_code == 200, path
        assert post_ids(thread_section(response.text)) == [post_id]


@pytest.mark.parametrize("digits", ["²", "١٢٣", "\uff11\uff12"])
async def test_unicode_digits_in_a_post_id_are_not_a_server_error(people, shards, digits):
    """Regression: str.isdigit() accepts '²', which int() refuses (ValueError, 500)."""
    alice = await people("alice")
    post_id = await say_id(shards, alice, "a post")
    response = await alice.get(f"/@alice/{digits}")
    assert response.status_code == 404
    assert GONE in response.text
    response = await send(alice, f"/@alice/{digits}/delete")
    assert response.status_code == 404
    response = await say(alice, "a reply", reply_to=digits)
    assert response.status_code == 404
    assert REPLY_PARENT_GONE in response.text
    assert await posts_by(shards, "alice") == [post_id]
