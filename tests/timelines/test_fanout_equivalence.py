"""The fan-out + hybrid home timeline equals the fan-in one, page by page, after jobs drain.

Hypothesis writes random histories (follows, unfollows, posts, replies, reposts, undone
reposts, deletes, reads that build cached timelines, job drains) for a few people on three
real shards and a real Redis, with small caps and follower thresholds so that trimming and
big authors happen all the time. Every example uses new people and its own Redis keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass, field

import hypothesis.strategies as st
import pytest
from fanout_support import fresh_prefix, on_three_shards
from hypothesis import HealthCheck, given, settings

from conftest import forget_redis_prefix
from twoorl.accounts.models import Account
from twoorl.accounts.passwords import Passwords
from twoorl.accounts.service import register
from twoorl.errors import TwoorlError
from twoorl.graph import service as graph
from twoorl.jobs.worker import Worker
from twoorl.posts import service as posts
from twoorl.reactions import service as reactions
from twoorl.storage.shards import ShardSet
from twoorl.timelines import fanout
from twoorl.timelines import service as timelines
from twoorl.timelines.cache import HomeTimelines
from twoorl.timelines.paging import PageRequest

PEOPLE = 5
person = st.integers(0, PEOPLE - 1)
any_post = st.integers(0, 10_000)
operation = st.one_of(
    # Posting is what most people do; it also overflows small caps quickly.
    st.tuples(st.just("post"), person),
    st.tuples(st.just("post"), person),
    st.tuples(st.just("post"), person),
    st.tuples(st.just("reply"), person, any_post),
    st.tuples(st.just("repost"), person, any_post),
    st.tuples(st.just("unrepost"), person, any_post),
    st.tuples(st.just("delete"), any_post),
    st.tuples(st.just("follow"), person, person),
    st.tuples(st.just("unfollow"), person, person),
    st.tuples(st.just("read"), person, st.booleans()),
    st.tuples(st.just("drain")),
    st.tuples(st.just("check"), person),
)
history = st.lists(operation, min_size=5, max_size=45)


@dataclass
class World:
    shards: ShardSet
    cache: HomeTimelines
    worker: Worker
    page_size: int
    people: list[Account] = field(default_factory=list)
    posts: list[tuple[int, int]] = field(default_factory=list)  # (post id, author id)

    def post(self, index: int) -> tuple[int, int] | None:
        return self.posts[index % len(self.posts)] if self.posts else None


async def pages(world: World, account_id: int, cache: HomeTimelines | None) -> list[list[int]]:
    """Every page of the home timeline, following the ``next`` cursor to the end."""
    found, max_id = [], None
    for _ in range(500):
        request = PageRequest(max_id=max_id, limit=world.page_size)
        page = await timelines.home(world.shards, account_id, request, cache)
        found.append([p.id for p in page.posts])
        if page.next_max_id is None:
            return found
        max_id = page.next_max_id
    raise AssertionError("the timeline did not end")


async def assert_equivalent(world: World, account: Account) -> None:
    await world.worker.drain()
    by_fan_in = await pages(world, account.id, None)
    assert await pages(world, account.id, world.cache) == by_fan_in
    # Newer-than pages (the "new posts" banner) agree too.
    flat = [i for page in by_fan_in for i in page]
    if len(flat) > 1:
        since = flat[len(flat) // 2]
        request = PageRequest(since_id=since, limit=world.page_size)
        fan_in_page = await timelines.home(world.shards, account.id, request)
        cached_page = await timelines.home(world.shards, account.id, request, world.cache)
        assert [p.id for p in cached_page.posts] == [p.id for p in fan_in_page.posts]


async def apply(world: World, op: tuple) -> None:
    kind, *args = op
    people, shards = world.people, world.shards
    match kind:
        case "post":
            post = await posts.create_post(shards, people[args[0]], "hello", max_length=140)
            world.posts.append((post.id, post.author_id))
        case "reply":
            target = world.post(args[1])
            if target:
                reply = await posts.create_post(
                    shards, people[args[0]], "re", max_length=140, in_reply_to_id=target[0]
                )
                world.posts.append((reply.id, reply.author_id))
        case "repost" | "unrepost":
            target = world.post(args[1])
            if target:
                action = reactions.repost if kind == "repost" else reactions.unrepost
                await action(shards, people[args[0]], target[0])
        case "delete":
            target = world.post(args[0])
            if target:
                author = next(p for p in people if p.id == target[1])
                await posts.delete_post(shards, author, target[0])
        case "follow":
            await graph.follow(shards, people[args[0]], people[args[1]])
            await fanout.followed(world.cache, people[args[0]].id)
        case "unfollow":
            await graph.unfollow(shards, people[args[0]], people[args[1]])
        case "read":
            # Builds (or refreshes) the reader's cached timeline, maybe before jobs ran.
            max_id = world.posts[-1][0] if args[1] and world.posts else None
            request = PageRequest(max_id=max_id, limit=world.page_size)
            await timelines.home(shards, people[args[0]].id, request, world.cache)
        case "drain":
            await world.worker.drain()
        case "check":
            await assert_equivalent(world, people[args[0]])


async def run_history(
    urls: list[str], redis_url: str, ops: list[tuple], cap: int, big: int, page_size: int
) -> None:
    prefix = fresh_prefix()
    shards = ShardSet(urls)
    cache = HomeTimelines.from_url(redis_url, prefix=prefix, cap=cap, max_followers=big)
    world = World(shards, cache, Worker(shards, timelines=cache), page_size)
    try:
        passwords = Passwords("cheapest")
        tag = secrets.token_hex(3)
        for i in range(PEOPLE):
            world.people.append(
                await register(
                    shards,
                    passwords,
                    username=f"p{tag}{i}",
                    email=f"p{tag}{i}@example.org",
                    password="correct horse battery",
                )
            )
        for op in ops:
            # Following yourself, reposting a deleted post...: refused, as in the app.
            with contextlib.suppress(TwoorlError):
                await apply(world, op)
        for account in world.people:
            await assert_equivalent(world, account)
    finally:
        await cache.close()
        await shards.dispose()
        forget_redis_prefix(redis_url, prefix)


@pytest.mark.postgres
@on_three_shards
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=history,
    cap=st.integers(1, 12),
    big=st.integers(0, 4),
    page_size=st.integers(1, 6),
)
def test_cached_home_equals_fan_in(
    shard_urls: list[str], redis_url: str, ops: list[tuple], cap: int, big: int, page_size: int
) -> None:
    asyncio.run(run_history(shard_urls, redis_url, ops, cap, big, page_size))
