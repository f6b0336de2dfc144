"""What fan-out writes into Redis, and what a read does with it: active followers get the
post, big authors are merged at read time, deletes, undone reposts and unfollows take entries
out, people who stay away get nothing and are rebuilt on return, and a read never trusts an
entry the databases disagree with."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from fanout_support import fresh_prefix, on_three_shards

from conftest import forget_redis_prefix
from twoorl.accounts.models import Account
from twoorl.accounts.passwords import Passwords
from twoorl.accounts.service import register
from twoorl.graph import service as graph
from twoorl.jobs.worker import Worker
from twoorl.posts import service as posts
from twoorl.reactions import service as reactions
from twoorl.storage.shards import ShardSet
from twoorl.timelines import fanout
from twoorl.timelines import service as timelines
from twoorl.timelines.cache import HomeTimelines
from twoorl.timelines.paging import PageRequest

pytestmark = [pytest.mark.postgres, on_three_shards]


@dataclass
class Network:
    shards: ShardSet
    cache: HomeTimelines
    worker: Worker

    async def person(self) -> Account:
        name = f"n{secrets.token_hex(5)}"
        return await register(
            self.shards,
            Passwords("cheapest"),
            username=name,
            email=f"{name}@example.org",
            password="correct horse battery",
        )

    async def follow(self, follower: Account, followee: Account) -> None:
        await graph.follow(self.shards, follower, followee)
        await fanout.followed(self.cache, follower.id)
        await self.worker.drain()

    async def post(self, author: Account, text: str = "hello") -> int:
        post = await posts.create_post(self.shards, author, text, max_length=140)
        await self.worker.drain()
        return post.id

    async def home(self, reader: Account, **request: int) -> list[int]:
        page = await timelines.home(self.shards, reader.id, PageRequest(**request), self.cache)
        return [p.id for p in page.posts]

    async def fan_in_home(self, reader: Account) -> list[int]:
        page = await timelines.home(self.shards, reader.id, PageRequest())
        return [p.id for p in page.posts]

    async def cached_ids(self, reader: Account) -> list[int] | None:
        """What Redis holds for ``reader`` (None: no timeline), newest first."""
        if not await self.cache.redis.exists(self.cache._meta(reader.id)):
            return None
        raw = await self.cache.redis.zrange(self.cache._timeline(reader.id), 0, -1, desc=True)
        return [int(m.decode().split(":")[0]) for m in raw]


@pytest.fixture
async def network(shard_urls: list[str], redis_url: str) -> AsyncIterator[Network]:
    prefix = fresh_prefix()
    shards = ShardSet(shard_urls)
    cache = HomeTimelines.from_url(redis_url, prefix=prefix, max_followers=2)
    shards.commit_hooks.append(cache.forget_changed_posts)  # as runtime.services wires it
    yield Network(shards, cache, Worker(shards, timelines=cache))
    await cache.close()
    await shards.dispose()
    forget_redis_prefix(redis_url, prefix)


async def test_a_post_reaches_active_followers_only(network: Network) -> None:
    author, reader, absent = [await network.person() for _ in range(3)]
    await network.follow(reader, author)
    await network.follow(absent, author)
    assert await network.home(reader) == []  # builds the reader's timeline
    post_id = await network.post(author)
    assert await network.cached_ids(reader) == [post_id]
    assert await network.cached_ids(author) is None  # never read their home: nothing kept
    assert await network.cached_ids(absent) is None
    assert await network.home(reader) == [post_id]
    # The one who stayed away is rebuilt by fan-in when they come, without waiting.
    assert await network.home(absent) == [post_id]
    assert await network.cached_ids(absent) == [post_id]


async def test_a_big_author_is_merged_at_read_time(network: Network) -> None:
    star = await network.person()
    fans = [await network.person() for _ in range(3)]  # more than max_followers=2
    for fan in fans:
        await network.follow(fan, star)
        await network.home(fan)
    post_id = await network.post(star)
    assert await network.cache.is_big(star.id)
    for fan in fans:
        assert await network.cached_ids(fan) == []  # not pushed...
        assert await network.home(fan) == [post_id]  # ...but on the page
    own = await network.post(fans[0], "mine")
    assert await network.home(fans[0]) == [own, post_id]
    assert await network.home(fans[0]) == await network.fan_in_home(fans[0])


async def test_delete_and_undone_repost_leave_cached_timelines(network: Network) -> None:
    author, other, reader = [await network.person() for _ in range(3)]
    await network.follow(reader, author)
    await network.home(reader)
    post_id = await network.post(author)
    original = await network.post(other, "worth sharing")
    await reactions.repost(network.shards, author, original)
    await network.worker.drain()
    repost_id = await reactions.repost_id_of(network.shards, author.id, original)
    assert await network.cached_ids(reader) == [repost_id, post_id]

    await reactions.unrepost(network.shards, author, original)
    await network.worker.drain()
    assert await network.cached_ids(reader) == [post_id]

    await posts.delete_post(network.shards, author, post_id)
    await network.worker.drain()
    assert await network.cached_ids(reader) == []
    assert await network.home(reader) == []


async def test_deleting_an_original_takes_its_reposts_out(network: Network) -> None:
    author, reposter, reader = [await network.person() for _ in range(3)]
    await network.follow(reader, reposter)
    await network.home(reader)
    original = await network.post(author, "going away soon")
    await reactions.repost(network.shards, reposter, original)
    await network.worker.drain()
    assert len(await network.cached_ids(reader) or []) == 1
    await posts.delete_post(network.shards, author, original)
    await network.worker.drain()
    assert await network.cached_ids(reader) == []


async def test_unfollow_removes_the_authors_entries(network: Network) -> None:
    kept, dropped, reader = [await network.person() for _ in range(3)]
    await network.follow(reader, kept)
    await network.follow(reader, dropped)
    await network.home(reader)
    kept_post = await network.post(kept)
    await network.post(dropped)
    await graph.unfollow(network.shards, reader, dropped)
    await network.worker.drain()
    assert await network.cached_ids(reader) == [kept_post]
    assert await network.home(reader) == [kept_post]


async def test_a_new_follow_brings_older_posts(network: Network) -> None:
    author, reader = await network.person(), await network.person()
    older = [await network.post(author, f"older {i}") for i in range(3)]
    assert await network.home(reader) == []
    await network.follow(reader, author)
    assert await network.home(reader) == older[::-1]


async def test_reads_never_trust_entries_the_databases_disagree_with(network: Network) -> None:
    stranger, reader = await network.person(), await network.person()
    await network.home(reader)
    # Entries a lost race could leave behind: a post by someone not followed, and a post
    # that no longer exists.
    foreign = await network.post(stranger)
    await network.cache.push([reader.id], foreign, stranger.id)
    gone = await network.post(reader, "soon deleted")
    await posts.delete_post(network.shards, reader, gone)  # its retraction job has not run
    assert await network.cached_ids(reader) == [gone, foreign]
    assert await network.home(reader) == []
    assert await network.cached_ids(reader) == []  # and the read cleaned them up


async def test_an_idle_timeline_expires_and_is_rebuilt(network: Network) -> None:
    network.cache.active_seconds = 1
    author, reader = await network.person(), await network.person()
    await network.follow(reader, author)
    await network.home(reader)
    await asyncio.sleep(2.1)  # Redis expiry has one-second granularity
    assert await network.cached_ids(reader) is None
    post_id = await network.post(author)
    assert await network.cached_ids(reader) is None  # no fan-out to someone away
    assert await network.home(reader) == [post_id]
    assert await network.cached_ids(reader) == [post_id]


async def test_a_rebuild_keeps_posts_that_arrive_while_it_reads(network: Network) -> None:
    author, reader = await network.person(), await network.person()
    await network.follow(reader, author)
    token = await network.cache.begin_rebuild(reader.id)
    # A post's fan-out lands while fan-in is still reading the databases...
    late = await network.post(author)
    assert await network.cached_ids(reader) == [late]
    # ...and the seed, which did not see it, keeps it.
    assert await network.cache.seed(reader.id, token, [], floor=0)
    assert await network.home(reader) == [late]
    # An invalidation meanwhile wins over a seed from before it.
    token = await network.cache.begin_rebuild(reader.id)
    await network.cache.invalidate(reader.id)
    assert not await network.cache.seed(reader.id, token, [], floor=0)
    assert await network.cached_ids(reader) is None


async def test_a_deleted_post_leaves_the_post_cache(network: Network) -> None:
    author, reader = await network.person(), await network.person()
    await network.follow(reader, author)
    await network.home(reader)
    post_id = await network.post(author)
    network.shards.caches.clear()  # as in a process that has not read it yet
    assert await network.home(reader) == [post_id]  # read once: now kept in Redis
    assert await network.cache.cached_posts([post_id])
    await posts.delete_post(network.shards, author, post_id)
    # Gone from Redis with the commit, before any job: no process can find the old copy.
    assert await network.cache.cached_posts([post_id]) == {}
    await network.worker.drain()
    network.shards.caches.clear()
    assert await network.home(reader) == []
