"""``twoorl demo-data``: bulk demo people, posts and follows that the app cannot tell from the
real thing. Checked with real queries on every backend, through the site as a demo person,
and as a newcomer runs the command."""

from __future__ import annotations

import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from conftest import Person, post_ids
from twoorl.accounts import service as accounts_service
from twoorl.accounts.tables import account_counters, accounts
from twoorl.cli import cli
from twoorl.demo import DEMO_PASSWORD, DemoError, DemoSpec, UsernamesTaken, bulk_follow, populate
from twoorl.demo.follows import follow_pairs
from twoorl.demo.snowflakes import allocate
from twoorl.graph.tables import followers, following
from twoorl.ids import logical_shard_of, timestamp_ms_of
from twoorl.notifications.tables import notifications
from twoorl.posts.tables import author_heads, post_tags, posts
from twoorl.posts.text import hashtags, mentioned_usernames, visible_length
from twoorl.storage.shards import ShardSet

USERS, POSTS_PER_USER, FOLLOWS_PER_USER, DAYS = 15, 6, 5, 3
STORED_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
TWOORL = [sys.executable, "-c", "from twoorl.cli import main; main()"]


# --- helpers ---------------------------------------------------------------------------------


async def load(app, **overrides) -> list[int]:
    values: dict = {
        "users": USERS,
        "posts_per_user": POSTS_PER_USER,
        "follows_per_user": FOLLOWS_PER_USER,
        "days": DAYS,
        "seed": 42,
    }
    values.update(overrides)
    spec = DemoSpec(**values)
    services = app.state.services
    summary = await populate(services.shards, spec, progress=False, passwords=services.passwords)
    return summary.account_ids


async def rows_by_shard(shards: ShardSet, table) -> dict[int, list]:
    """Every row of ``table``, per physical shard index."""
    found: dict[int, list] = {}
    for shard in shards.shards:
        async with shard.read() as conn:
            found[shard.index] = list(await conn.execute(select(table)))
    return found


def everywhere(by_shard: dict[int, list]) -> list:
    return [row for rows in by_shard.values() for row in rows]


async def sign_in(app, username: str) -> Person:
    person = Person(app, username)
    response = await person.login(username, DEMO_PASSWORD)
    assert response.status_code == 303, response.text
    return person


def run_twoorl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TWOORL_")}
    return subprocess.run(
        [*TWOORL, *args], env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


# --- the data is what the app would have written ---------------------------------------------


async def test_accounts_are_registered_people(app, shards) -> None:
    ids = await load(app)
    assert len(ids) == len(set(ids)) == USERS
    rows = everywhere(await rows_by_shard(shards, accounts))
    # The directory lives on the first shard only.
    assert len((await rows_by_shard(shards, accounts))[0]) == USERS == len(rows)
    by_name = {row.username: row for row in rows}
    for number, account_id in enumerate(ids, 1):
        row = by_name[f"demo{number}"]
        assert row.id == account_id
        assert row.email == f"demo{number}@example.invalid" == row.email_key
        assert row.username_key == f"demo{number}"
        assert (row.display_name, row.bio, row.locale) == ("", "", None)
        assert row.created_at.tzinfo is not None
        assert row.created_at.timestamp() <= time.time()
    # One hash for everyone, and the accounts spread over logical shards.
    assert len({row.password_hash for row in rows}) == 1
    assert len({logical_shard_of(i) for i in ids}) > USERS // 2
    account = await accounts_service.get_by_username(shards, "demo7")
    assert account is not None and account.id == ids[6]


async def test_posts_live_on_their_authors_shard_with_tags_and_heads(app, shards) -> None:
    ids = await load(app)
    now_ms = time.time_ns() // 1_000_000
    post_rows = await rows_by_shard(shards, posts)
    all_posts = everywhere(post_rows)
    assert len(all_posts) == USERS * POSTS_PER_USER
    assert Counter(p.author_id for p in all_posts) == dict.fromkeys(ids, POSTS_PER_USER)
    for index, rows in post_rows.items():
        for post in rows:
            assert logical_shard_of(post.id) == logical_shard_of(post.author_id)
            assert shards.for_id(post.id).index == index == shards.for_id(post.author_id).index
            assert now_ms - DAYS * 86_400_000 <= timestamp_ms_of(post.id) <= now_ms
            assert 0 < visible_length(post.text) <= 140
            assert mentioned_usernames(post.text) == []
            assert post.in_reply_to_id is None and post.repost_of_id is None
    # Tags exactly as create_post writes them, on the post's shard.
    tag_rows = await rows_by_shard(shards, post_tags)
    for index, rows in tag_rows.items():
        expected = {(tag, p.id) for p in post_rows[index] for tag in hashtags(p.text)}
        assert {(t.tag, t.post_id) for t in rows} == expected
    assert any(everywhere(tag_rows)), "some posts should carry hashtags"
    # author_heads: each author's newest post id, on the author's shard.
    head_rows = await rows_by_shard(shards, author_heads)
    for index, rows in head_rows.items():
        newest: dict[int, int] = {}
        for post in post_rows[index]:
            newest[post.author_id] = max(newest.get(post.author_id, 0), post.id)
        assert {h.author_id: h.head_id for h in rows} == newest


async def test_follows_are_symmetric_skewed_and_counted(app, shards) -> None:
    ids = await load(app, users=40, follows_per_user=8)
    out_rows = await rows_by_shard(shards, following)
    in_rows = await rows_by_shard(shards, followers)
    for index, rows in out_rows.items():
        assert all(shards.for_id(r.follower_id).index == index for r in rows)
    for index, rows in in_rows.items():
        assert all(shards.for_id(r.followee_id).index == index for r in rows)
    out_edges = {(r.follower_id, r.followee_id) for r in everywhere(out_rows)}
    in_edges = {(r.follower_id, r.followee_id) for r in everywhere(in_rows)}
    assert out_edges == in_edges
    assert len(out_edges) == len(everywhere(out_rows)) == 40 * 8
    assert all(a != b for a, b in out_edges)
    assert Counter(a for a, _ in out_edges) == dict.fromkeys(ids, 8)
    popularity = Counter(b for _, b in out_edges).most_common()
    assert popularity[0][1] >= 3 * (40 * 8 // 40), "Zipf-like: someone is much followed"
    # The "followed you" notification, on the followee's shard.
    notes = await rows_by_shard(shards, notifications)
    for index, rows in notes.items():
        assert all(shards.for_id(n.account_id).index == index for n in rows)
        assert all(logical_shard_of(n.id) == logical_shard_of(n.account_id) for n in rows)
    assert {(n.actor_id, n.account_id) for n in everywhere(notes)} == out_edges
    assert {(n.kind, n.post_id, n.read) for n in everywhere(notes)} == {("follow", 0, False)}


async def test_counters_equal_recounts_on_each_accounts_shard(app, shards) -> None:
    ids = await load(app)
    post_rows = everywhere(await rows_by_shard(shards, posts))
    out_rows = everywhere(await rows_by_shard(shards, following))
    in_rows = everywhere(await rows_by_shard(shards, followers))
    counter_rows = await rows_by_shard(shards, account_counters)
    for index, rows in counter_rows.items():
        assert all(shards.for_id(r.account_id).index == index for r in rows)
    counted = {r.account_id: (r.posts, r.following, r.followers) for r in everywhere(counter_rows)}
    recount: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for p in post_rows:
        recount[p.author_id][0] += 1
    for r in out_rows:
        recount[r.follower_id][1] += 1
    for r in in_rows:
        recount[r.followee_id][2] += 1
    assert counted == {i: tuple(recount[i]) for i in ids}
    counts = await accounts_service.counts_for(shards, ids[0])
    assert (counts.posts, counts.following) == (POSTS_PER_USER, FOLLOWS_PER_USER)


# SQLite only: PostgreSQL's column types leave no room for a different stored form.
@pytest.mark.parametrize("shard_urls", ["sqlite", "sqlite3"], indirect=True)
async def test_sqlite_stores_demo_rows_exactly_like_the_apps_own(app, shards, people) -> None:
    await load(app)
    # Rows of every bulk-written table made by the app itself, beside the demo's.
    alice = await people("alice")
    assert (await alice.post("Hello #Demo")).status_code == 303
    assert (await alice.follow("demo1")).status_code == 303
    for table in (accounts, posts, post_tags, following, followers, notifications):
        for shard in shards.shards:
            async with shard.read() as conn:
                for column in table.c:
                    forms = (
                        await conn.exec_driver_sql(
                            f'SELECT DISTINCT typeof("{column.name}") FROM "{table.name}"'
                        )
                    ).all()
                    assert len(forms) <= 1, (table.name, column.name, forms)
                    if column.name == "created_at":
                        stamps = (
                            await conn.exec_driver_sql(f'SELECT created_at FROM "{table.name}"')
                        ).scalars()
                        assert all(STORED_TIME.fullmatch(t) for t in stamps), table.name


# --- through the site --------------------------------------------------------------------------


async def test_demo_person_signs_in_and_reads_followees_on_home(app, shards) -> None:
    ids = await load(app)
    person = await sign_in(app, "demo3")
    try:
        reader = ids[2]
        async with shards.for_id(reader).read() as conn:
            followees = set(
                (
                    await conn.execute(
                        select(following.c.followee_id).where(following.c.follower_id == reader)
                    )
                ).scalars()
            )
        assert len(followees) == FOLLOWS_PER_USER
        authors = followees | {reader}
        visible = sorted(
            (
                p.id
                for p in everywhere(await rows_by_shard(shards, posts))
                if p.author_id in authors
            ),
            reverse=True,
        )
        home = await person.get("/")
        assert home.status_code == 200
        assert "Log out" in home.text
        assert post_ids(home.text) == visible[:20]
        profile = await person.get("/@demo3")
        assert profile.status_code == 200
        assert "Log out" in profile.text
    finally:
        await person.close()


async def test_a_popular_demo_person_has_follow_notifications(app, shards) -> None:
    ids = await load(app)
    in_rows = everywhere(await rows_by_shard(shards, followers))
    star_id, _ = Counter(r.followee_id for r in in_rows).most_common(1)[0]
    star = f"demo{ids.index(star_id) + 1}"
    person = await sign_in(app, star)
    try:
        page = await person.get("/notifications")
        assert page.status_code == 200
        async with shards.for_id(star_id).read() as conn:
            newest_fan = (
                await conn.execute(
                    select(notifications.c.actor_id)
                    .where(notifications.c.account_id == star_id)
                    .order_by(notifications.c.id.desc())
                )
            ).scalar()
        others = sum(1 for r in in_rows if r.followee_id == star_id) - 1
        # One grouped line: "demoN and 4 others followed you", newest follower named.
        assert f"demo{ids.index(newest_fan) + 1}</a> and {others} others followed you" in page.text
    finally:
        await person.close()


# --- bulk_follow ---------------------------------------------------------------------------------


async def test_bulk_follow_adds_edges_counts_and_home_posts(app, shards, people) -> None:
    ids = await load(app, follows_per_user=2)
    alice = await people("alice")
    alice_id = (await accounts_service.get_by_username(shards, "alice")).id
    before = {i: await accounts_service.counts_for(shards, i) for i in ids}
    pairs = [(alice_id, i) for i in ids]
    invalidated: list[int] = []

    async def invalidate(account_id: int) -> None:
        invalidated.append(account_id)

    assert await bulk_follow(shards, [*pairs, pairs[0]], invalidate_home=invalidate) == USERS
    assert invalidated == [alice_id], "a cached home timeline must be rebuilt"
    assert await bulk_follow(shards, pairs) == 0, "existing follows are skipped"
    alice_counts = await accounts_service.counts_for(shards, alice_id)
    assert (alice_counts.posts, alice_counts.following) == (0, USERS)
    for i in ids:
        after = await accounts_service.counts_for(shards, i)
        assert after.followers == before[i].followers + 1
        assert (after.posts, after.following) == (before[i].posts, before[i].following)
    async with shards.for_id(ids[0]).read() as conn:
        assert (
            await conn.execute(
                select(followers.c.follower_id).where(
                    followers.c.followee_id == ids[0], followers.c.follower_id == alice_id
                )
            )
        ).first() is not None
    newest = sorted((p.id for p in everywhere(await rows_by_shard(shards, posts))), reverse=True)
    assert post_ids((await alice.get("/")).text) == newest[:20]
    with pytest.raises(ValueError, match="themselves"):
        await bulk_follow(shards, [(alice_id, alice_id)])


async def test_a_failure_on_one_shard_leaves_nothing_on_any(app, shards, people) -> None:
    ids = await load(app, follows_per_user=2)
    await people("reader")
    reader_id = (await accounts_service.get_by_username(shards, "reader")).id
    # An in-edge without its out-edge (never made by the app): bulk_follow's in-edge insert
    # for this pair collides, after the other rows of the load are already written.
    async with shards.for_id(ids[-1]).write() as conn:
        await conn.execute(
            insert(followers).values(
                followee_id=ids[-1], follower_id=reader_id, created_at=datetime.now(UTC)
            )
        )
    with pytest.raises((IntegrityError, asyncpg.UniqueViolationError)):
        await bulk_follow(shards, [(reader_id, i) for i in ids])
    assert not [
        r for r in everywhere(await rows_by_shard(shards, following)) if r.follower_id == reader_id
    ]
    counts = await accounts_service.counts_for(shards, reader_id)
    assert counts.following == 0
    notes = everywhere(await rows_by_shard(shards, notifications))
    assert not [n for n in notes if n.actor_id == reader_id]


# --- refusals, reproducibility, ids --------------------------------------------------------------


async def test_existing_usernames_are_refused_before_anything_is_written(app, shards) -> None:
    await load(app, users=5, follows_per_user=2)
    before = {t.name: len(everywhere(await rows_by_shard(shards, t))) for t in (posts, following)}
    with pytest.raises(UsernamesTaken, match=r"demo1\.\.demo9 already exist"):
        await load(app, users=9, follows_per_user=2)
    after = {t.name: len(everywhere(await rows_by_shard(shards, t))) for t in (posts, following)}
    assert after == before
    other = await load(app, users=5, follows_per_user=2, prefix="other")
    assert len(other) == 5


async def test_same_seed_gives_the_same_people(app, shards) -> None:
    first = await load(app, prefix="a")
    second = await load(app, prefix="b")
    post_rows = everywhere(await rows_by_shard(shards, posts))
    edges = everywhere(await rows_by_shard(shards, following))

    def shape(ids: list[int]):
        number = {account_id: n for n, account_id in enumerate(ids)}
        texts = sorted((number[p.author_id], p.text) for p in post_rows if p.author_id in number)
        follows = sorted(
            (number[e.follower_id], number[e.followee_id]) for e in edges if e.follower_id in number
        )
        return texts, follows

    assert shape(first) == shape(second)
    assert not set(first) & set(second)


def test_spec_refuses_impossible_requests() -> None:
    with pytest.raises(DemoError, match="follows-per-user"):
        DemoSpec(users=3, follows_per_user=3)
    with pytest.raises(DemoError, match="prefix"):
        DemoSpec(users=3, follows_per_user=0, prefix="no spaces")
    with pytest.raises(DemoError, match="too long"):
        DemoSpec(users=100, follows_per_user=0, prefix="x" * 29)


@pytest.mark.parametrize(("users", "per_user"), [(10, 4), (10, 7), (6, 5), (2, 1), (5, 0)])
def test_everyone_follows_exactly_that_many_others(users: int, per_user: int) -> None:
    pairs = list(follow_pairs(users, per_user, random.Random(users * per_user)))
    assert len(set(pairs)) == len(pairs) == users * per_user
    assert all(a != b for a, b in pairs)
    assert Counter(a for a, _ in pairs) == (
        dict.fromkeys(range(users), per_user) if per_user else {}
    )


def test_backdated_ids_are_unique_never_late_and_on_their_shard() -> None:
    rng = random.Random(1)
    at = 1_800_000_000_000
    # 10,000 ids in one millisecond on one logical shard overflow the 12-bit sequence.
    stamps = [at] * 10_000 + [at - 1] * 5 + [at - 7] * 3 + [at] * 3
    logical = [5] * 10_008 + [6] * 3
    ids = allocate(stamps, logical, rng)
    assert len(set(ids)) == len(ids)
    for snowflake, stamp, shard in zip(ids, stamps, logical, strict=True):
        assert timestamp_ms_of(snowflake) <= stamp
        assert logical_shard_of(snowflake) == shard
    assert timestamp_ms_of(ids[-1]) == at, "a quiet shard keeps its exact millisecond"


# --- the command ---------------------------------------------------------------------------


def test_command_twice_with_the_same_prefix_exits_1(shard_urls: list[str], tmp_path: Path) -> None:
    env = {
        "TWOORL_SHARDS": ",".join(shard_urls),
        "TWOORL_DATA_DIR": str(tmp_path),
        "TWOORL_PASSWORD_HASH_PROFILE": "cheapest",
    }
    args = ["demo-data", "--users", "8", "--posts-per-user", "3", "--follows-per-user", "3"]
    runner = CliRunner()
    first = runner.invoke(cli, args, env=env)
    assert first.exit_code == 0, first.output
    assert "Created 8 demo accounts" in first.stdout
    assert "24 posts" in first.stdout and "24 follows" in first.stdout
    assert "rows/s" in first.stdout
    second = runner.invoke(cli, args, env=env)
    assert second.exit_code == 1
    assert "8 of the accounts demo1..demo8 already exist" in second.stderr
    assert "--prefix" in second.stderr
    assert "Traceback" not in second.output


def test_command_on_a_fresh_sqlite_data_dir(tmp_path: Path) -> None:
    env = {"TWOORL_DATA_DIR": str(tmp_path), "TWOORL_PASSWORD_HASH_PROFILE": "cheapest"}
    args = ["demo-data", "--users", "30", "--posts-per-user", "4", "--follows-per-user", "6"]
    result = run_twoorl(*args, "--seed", "3", "--days", "2", env=env)
    assert result.returncode == 0, result.stderr
    assert "Created 30 demo accounts (demo1..demo30" in result.stdout
    assert DEMO_PASSWORD in result.stdout
    with sqlite3.connect(tmp_path / "s0.db") as db:
        assert db.execute("SELECT count(*) FROM accounts").fetchone() == (30,)
        assert db.execute("SELECT count(*) FROM posts").fetchone() == (120,)
        assert db.execute("SELECT count(*) FROM following").fetchone() == (180,)
        assert db.execute("SELECT count(*) FROM followers").fetchone() == (180,)
        assert db.execute("SELECT sum(followers), sum(posts) FROM account_counters").fetchone() == (
            180,
            120,
        )
        assert db.execute("SELECT count(*) FROM jobs").fetchone() == (0,)
    again = run_twoorl(*args, env=env)
    assert again.returncode == 1
    assert "already exist" in again.stderr and "Traceback" not in again.stderr
    help_text = run_twoorl("demo-data", "--help", env=env)
    assert DEMO_PASSWORD in help_text.stdout
