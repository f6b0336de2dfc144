"""A ``twoorl worker`` killed with SIGKILL in the middle of a few thousand jobs loses nothing
and doubles nothing: once a second worker has finished the queue, every derived row (in-edges,
tallies, counters, notifications) agrees exactly with the truth it was derived from.

Real processes on three PostgreSQL shards; the data is made in-process by the services, with no
worker running, so that every job is still queued when the first worker starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Iterable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import _truncate_all
from twoorl.accounts import service as accounts
from twoorl.accounts.models import Account
from twoorl.accounts.passwords import Passwords
from twoorl.accounts.tables import account_counters
from twoorl.graph import service as graph
from twoorl.graph.tables import followers, following
from twoorl.jobs.admin import queue_counts
from twoorl.jobs.tables import jobs
from twoorl.notifications.tables import notifications
from twoorl.posts import service as posts_service
from twoorl.posts.tables import posts
from twoorl.reactions import service as reactions
from twoorl.reactions.tables import likes, post_counters, post_likes, post_reposts
from twoorl.storage.shards import ShardSet

pytestmark = pytest.mark.postgres

TWOORL = [sys.executable, "-c", "from twoorl.cli import main; main()"]
ACCOUNTS = 60
FOLLOWS_EACH = 30  # account i follows i+1 .. i+30
LIKES_EACH = 15  # the post of account i is liked by i+1 .. i+15
REPOSTS_EACH = 3  # account i reposts the posts of i+20 .. i+22
UNFOLLOW_OFFSET = 40  # account i follows, then unfollows, i+40
UNLIKE_OFFSET = 30  # account i likes, then unlikes, the post of i+30 (which it never liked)
SELF_LIKERS = range(0, ACCOUNTS, 10)  # these like their own post too (nobody is told)
LEASE_SECONDS = 2
KILL_AFTER_DONE = 0.30  # SIGKILL the first worker once this fraction of jobs is done
FINISH_TIMEOUT = 120.0
STARTUP_TIMEOUT = 60.0


def other(i: int, offset: int) -> int:
    return (i + offset) % ACCOUNTS


async def bounded(awaitables: Iterable[Awaitable[object]], limit: int = 16) -> list[object]:
    gate = asyncio.Semaphore(limit)

    async def one(awaitable: Awaitable[object]) -> object:
        async with gate:
            return await awaitable

    return await asyncio.gather(*(one(a) for a in awaitables))


class Plan:
    """What the test did, so the truth tables can be checked against it too."""

    def __init__(self) -> None:
        self.accounts: list[Account] = []
        self.post_of: dict[int, int] = {}  # account index -> its post id
        self.edges: set[tuple[int, int]] = set()  # (follower_id, followee_id)
        self.likes: set[tuple[int, int]] = set()  # (account_id, post_id)
        self.reposts: set[tuple[int, int]] = set()  # (account_id, post_id)


async def make_work(shards: ShardSet) -> Plan:
    plan = Plan()
    passwords = Passwords("cheapest")
    plan.accounts = list(
        await bounded(
            accounts.register(
                shards,
                passwords,
                username=f"crash{i}",
                email=f"crash{i}@example.org",
                password="correct horse battery",
            )
            for i in range(ACCOUNTS)
        )
    )
    people = plan.accounts
    created = await bounded(
        posts_service.create_post(shards, people[i], f"post number {i}", max_length=140)
        for i in range(ACCOUNTS)
    )
    plan.post_of = {i: post.id for i, post in enumerate(created)}

    async def follow_then_unfollow(i: int) -> None:
        target = people[other(i, UNFOLLOW_OFFSET)]
        assert await graph.follow(shards, people[i], target)
        assert await graph.unfollow(shards, people[i], target)

    async def like_then_unlike(i: int) -> None:
        post_id = plan.post_of[other(i, UNLIKE_OFFSET)]
        await reactions.like(shards, people[i], post_id)
        await reactions.unlike(shards, people[i], post_id)

    await bounded(
        graph.follow(shards, people[i], people[other(i, k)])
        for i in range(ACCOUNTS)
        for k in range(1, FOLLOWS_EACH + 1)
    )
    plan.edges = {
        (people[i].id, people[other(i, k)].id)
        for i in range(ACCOUNTS)
        for k in range(1, FOLLOWS_EACH + 1)
    }
    await bounded(follow_then_unfollow(i) for i in range(ACCOUNTS))

    likers = [(other(i, k), i) for i in range(ACCOUNTS) for k in range(1, LIKES_EACH + 1)]
    likers += [(i, i) for i in SELF_LIKERS]
    await bounded(reactions.like(shards, people[who], plan.post_of[whose]) for who, whose in likers)
    plan.likes = {(people[who].id, plan.post_of[whose]) for who, whose in likers}
    await bounded(like_then_unlike(i) for i in range(ACCOUNTS))

    reposters = [(i, other(i, k)) for i in range(ACCOUNTS) for k in range(20, 20 + REPOSTS_EACH)]
    await bounded(
        reactions.repost(shards, people[who], plan.post_of[whose]) for who, whose in reposters
    )
    plan.reposts = {(people[who].id, plan.post_of[whose]) for who, whose in reposters}
    return plan


async def rows(shards: ShardSet, query) -> list:
    found: list = []
    for batch in await shards.gather(lambda _s, conn: _all(conn, query)):
        found += batch
    return found


async def _all(conn, query) -> list:
    return list((await conn.execute(query)).all())


async def job_totals(shards: ShardSet) -> tuple[int, int, int]:
    """(pending, failed, claimed) over all shards; claimed jobs are those a worker took at
    least once (and has not finished: a finished job's row is gone)."""
    counts = await queue_counts(shards)
    claimed = await rows(shards, select(func.count()).select_from(jobs).where(jobs.c.attempts > 0))
    return (
        sum(c.pending for c in counts),
        sum(c.failed for c in counts),
        sum(r[0] for r in claimed),
    )


class WorkerProcess:
    def __init__(self, urls: list[str], log_path: Path) -> None:
        self.urls = urls
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWOORL_")}
        env.update(
            TWOORL_SHARDS=",".join(self.urls),
            TWOORL_DATA_DIR=str(self.log_path.parent / "data"),
            TWOORL_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
            PYTHONUNBUFFERED="1",
        )
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *TWOORL,
                "worker",
                "--concurrency",
                "4",
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def assert_running(self) -> None:
        assert self.process is not None
        assert self.process.returncode is None, (
            f"the worker exited with {self.process.returncode}:\n{self.log()}"
        )

    async def kill(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), timeout=15)
        except TimeoutError:
            await self.kill()


@pytest.fixture
async def fresh_shards(postgres_urls: list[str]) -> AsyncIterator[ShardSet]:
    await _truncate_all(postgres_urls)
    shards = ShardSet(postgres_urls)
    yield shards
    await shards.dispose()


async def test_a_killed_worker_loses_and_doubles_nothing(
    fresh_shards: ShardSet, postgres_urls: list[str], tmp_path: Path
) -> None:
    shards = fresh_shards
    started = time.monotonic()
    plan = await make_work(shards)
    total, failed, _claimed = await job_totals(shards)
    print(f"\nqueued {total} jobs in {time.monotonic() - started:.1f}s")
    assert failed == 0
    expected_jobs = (
        ACCOUNTS  # posts.link
        + ACCOUNTS * FOLLOWS_EACH
        + 2 * ACCOUNTS  # follow + unfollow
        + ACCOUNTS * LIKES_EACH
        + len(SELF_LIKERS)
        + 2 * ACCOUNTS  # like + unlike
        + ACCOUNTS * REPOSTS_EACH
    )
    assert total == expected_jobs

    first = WorkerProcess(postgres_urls, tmp_path / "worker-1.log")
    second = WorkerProcess(postgres_urls, tmp_path / "worker-2.log")
    try:
        await first.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            first.assert_running()
            pending, failed, _claimed = await job_totals(shards)
            if pending + failed <= total * (1 - KILL_AFTER_DONE):
                break
            assert time.monotonic() < deadline, f"the worker made no progress:\n{first.log()}"
            await asyncio.sleep(0.01)
        await first.kill()
        pending, failed, claimed = await job_totals(shards)
        done = 1 - (pending + failed) / total
        print(
            f"killed the first worker with {done:.1%} of {total} jobs done "
            f"({pending} left, {claimed} of them claimed by the dead worker)"
        )
        assert 0 < done < 1, "the first worker was not killed mid-run"
        assert claimed > 0, "no job was in flight when the worker was killed"
        assert failed == 0, first.log()

        await second.start()
        deadline = time.monotonic() + FINISH_TIMEOUT
        while True:
            second.assert_running()
            pending, failed, _claimed = await job_totals(shards)
            if pending == 0 or failed:
                break
            assert time.monotonic() < deadline, (
                f"{pending} jobs still queued after {FINISH_TIMEOUT:.0f}s:\n{second.log()}"
            )
            await asyncio.sleep(0.1)
        print(f"the second worker finished the queue; total {time.monotonic() - started:.1f}s")
        parked = await rows(shards, select(jobs.c.kind, jobs.c.attempts, jobs.c.last_error))
        assert parked == [], f"jobs left or parked: {parked[:5]}\n{second.log()}"
        await second.stop()
        for log in (first.log(), second.log()):
            assert " failed: " not in log, f"a job failed on the way:\n{log}"
    except BaseException:
        print("---- first worker ----\n" + first.log())
        print("---- second worker ----\n" + second.log())
        raise
    finally:
        with contextlib.suppress(Exception):
            await first.kill()
        with contextlib.suppress(Exception):
            await second.stop()

    await check_consistency(shards, plan)


async def check_consistency(shards: ShardSet, plan: Plan) -> None:
    ids = {a.id for a in plan.accounts}
    author_of = {post_id: plan.accounts[i].id for i, post_id in plan.post_of.items()}

    # The truths the services wrote are what the test asked for.
    out_edges = {
        tuple(r)
        for r in await rows(shards, select(following.c.follower_id, following.c.followee_id))
    }
    assert out_edges == plan.edges
    liked = {tuple(r) for r in await rows(shards, select(likes.c.account_id, likes.c.post_id))}
    assert liked == plan.likes
    reposted_rows = await rows(
        shards,
        select(posts.c.author_id, posts.c.repost_of_id).where(posts.c.repost_of_id.is_not(None)),
    )
    reposted = {tuple(r) for r in reposted_rows}
    assert len(reposted_rows) == len(reposted)
    assert reposted == plan.reposts

    # In-edges mirror out-edges exactly, each on the right shard.
    in_edge_rows = await rows(shards, select(followers.c.follower_id, followers.c.followee_id))
    assert len(in_edge_rows) == len(set(in_edge_rows))
    assert {tuple(r) for r in in_edge_rows} == out_edges
    for shard in shards.shards:
        async with shard.read() as conn:
            here = (await conn.execute(select(followers.c.followee_id))).scalars().all()
        assert all(shards.for_id(followee) is shard for followee in here)

    # Account counters equal recounts.
    counters = {r.account_id: r for r in await rows(shards, select(account_counters))}
    assert set(counters) <= ids
    following_count = Counter(follower for follower, _ in out_edges)
    followers_count = Counter(followee for _, followee in out_edges)
    for account_id in ids:
        row = counters.get(account_id)
        assert (row.following if row else 0) == following_count[account_id], account_id
        assert (row.followers if row else 0) == followers_count[account_id], account_id
        assert (row.posts if row else 0) == 1, account_id

    # Post tallies mirror the reactors' records, and the counters equal recounts.
    tally_likes = await rows(shards, select(post_likes.c.account_id, post_likes.c.post_id))
    assert len(tally_likes) == len(set(tally_likes))
    assert {tuple(r) for r in tally_likes} == liked
    tally_reposts = await rows(shards, select(post_reposts.c.account_id, post_reposts.c.post_id))
    assert len(tally_reposts) == len(set(tally_reposts))
    assert {tuple(r) for r in tally_reposts} == reposted
    post_rows = {r.post_id: r for r in await rows(shards, select(post_counters))}
    likes_count = Counter(post_id for _, post_id in liked)
    reposts_count = Counter(post_id for _, post_id in reposted)
    assert set(post_rows) <= set(author_of)
    for post_id in author_of:
        row = post_rows.get(post_id)
        assert (row.likes if row else 0) == likes_count[post_id], post_id
        assert (row.reposts if row else 0) == reposts_count[post_id], post_id
        assert (row.replies if row else 0) == 0, post_id

    # Notifications: one per edge, like and repost (none for one's own doings), no more.
    found = await rows(
        shards,
        select(
            notifications.c.account_id,
            notifications.c.kind,
            notifications.c.actor_id,
            notifications.c.post_id,
        ),
    )
    per_event = Counter(tuple(r) for r in found)
    duplicates = {event: n for event, n in per_event.items() if n != 1}
    assert duplicates == {}
    expected = {(followee, "follow", follower, 0) for follower, followee in out_edges}
    expected |= {
        (author_of[post_id], "like", liker, post_id)
        for liker, post_id in liked
        if liker != author_of[post_id]
    }
    expected |= {
        (author_of[post_id], "repost", reposter, post_id) for reposter, post_id in reposted
    }
    assert len(expected) == ACCOUNTS * (FOLLOWS_EACH + LIKES_EACH + REPOSTS_EACH)
    assert set(per_event) - expected == set(), "unexpected notifications"
    assert expected - set(per_event) == set(), "missing notifications"
    for shard in shards.shards:
        async with shard.read() as conn:
            here = (await conn.execute(select(notifications.c.account_id))).scalars().all()
        assert all(shards.for_id(recipient) is shard for recipient in here)
