"""/stats: every figure the page shows equals a recount of the rows, after a scripted day of
activity across three shards (registrations, posts, deletes, reposts, follows, unfollows,
some of it on earlier days), and the charts are accessible, well-formed SVG."""

from __future__ import annotations

import importlib.util
import itertools
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from babel.dates import format_skeleton
from sqlalchemy import delete, select, text
from web_support import account_id, send

from twoorl.accounts.tables import accounts
from twoorl.graph.tables import following
from twoorl.ids import compose
from twoorl.posts.tables import posts
from twoorl.stats import service as stats
from twoorl.stats.tables import daily_posters, daily_stats
from twoorl.storage.types import utcnow

SVG = "{http://www.w3.org/2000/svg}"
SVG_RE = re.compile(r"<svg\b.*?</svg>", re.S)
TOTAL_RE = re.compile(r'<dd data-total="(\w+)">([^<]*)</dd>')
MIGRATION = Path(__file__).parents[2] / "src/twoorl/storage/migrations/versions/0006_stats.py"


def days_ago(count: int) -> datetime:
    return (utcnow() - timedelta(days=count)).replace(hour=12, minute=0)


class Clock:
    """Shifts what the services take for "now" (the clock only: real databases, real
    requests), so some of the day's activity lands on earlier days."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.sequence = itertools.count(1)

    def set(self, moment: datetime | None) -> None:
        if moment is None:
            self.monkeypatch.undo()
            return
        millis = int(moment.timestamp() * 1000)
        self.monkeypatch.setattr(
            "twoorl.posts.service.new_id",
            lambda logical: compose(millis, logical, next(self.sequence)),
        )
        self.monkeypatch.setattr("twoorl.accounts.service.utcnow", lambda: moment)
        self.monkeypatch.setattr("twoorl.graph.service.utcnow", lambda: moment)


async def own_posts(shards, author: int) -> list[int]:
    async with shards.for_id(author).read() as conn:
        rows = await conn.execute(
            select(posts.c.id)
            .where(posts.c.author_id == author, posts.c.repost_of_id.is_(None))
            .order_by(posts.c.id)
        )
        return list(rows.scalars())


async def delete_post(person, username: str, post_id: int) -> None:
    response = await send(person, f"/@{username}/{post_id}/delete")
    assert response.status_code == 303, response.text


async def scripted_day(people, shards, monkeypatch) -> None:
    clock = Clock(monkeypatch)
    alice, bob, carol, dan, erin = [
        await people(name) for name in ("alice", "bob", "carol", "dan", "erin")
    ]
    ids = {p.username: await account_id(shards, p.username) for p in (alice, bob, carol, dan)}
    # Three days ago: a registration, three posts, a follow.
    clock.set(days_ago(3))
    await people("olga")
    for person, status in ((alice, "old one"), (alice, "old two"), (bob, "old bob")):
        assert (await person.post(status)).status_code == 303
    assert (await send(alice, "/@bob/follow")).status_code == 303
    # Ten days ago: one post, deleted again today.
    clock.set(days_ago(10))
    assert (await bob.post("very old")).status_code == 303
    clock.set(None)
    # Today.
    for person, count in ((alice, 3), (bob, 1), (carol, 2), (dan, 1)):
        for i in range(count):
            assert (await person.post(f"{person.username} says {i} #today")).status_code == 303
    await delete_post(dan, "dan", (await own_posts(shards, ids["dan"]))[0])  # dan: no poster
    await delete_post(alice, "alice", (await own_posts(shards, ids["alice"]))[0])  # 3 days ago
    await delete_post(bob, "bob", (await own_posts(shards, ids["bob"]))[0])  # 10 days ago
    repost = await send(erin, f"/posts/{(await own_posts(shards, ids['carol']))[0]}/repost")
    assert repost.status_code == 303  # a repost is not a post of erin's
    for person, whom in ((bob, "alice"), (carol, "alice"), (carol, "bob"), (dan, "alice")):
        assert (await send(person, f"/@{whom}/follow")).status_code == 303
    assert (await send(dan, "/@alice/unfollow")).status_code == 303
    assert (await send(alice, "/@bob/unfollow")).status_code == 303  # the one of 3 days ago
    assert (await send(erin, "/@carol/follow")).status_code == 303


async def recount(shards) -> tuple[dict[str, int], dict[str, Counter]]:
    """Totals and per-day figures counted from the rows themselves."""
    posts_per_day: Counter = Counter()
    posters: set[tuple[date, int]] = set()
    follows_per_day: Counter = Counter()
    for shard in shards.shards:
        async with shard.read() as conn:
            for post_id, author in await conn.execute(
                select(posts.c.id, posts.c.author_id).where(posts.c.repost_of_id.is_(None))
            ):
                posts_per_day[stats.day_of_id(post_id)] += 1
                posters.add((stats.day_of_id(post_id), author))
            for (created_at,) in await conn.execute(select(following.c.created_at)):
                follows_per_day[created_at.date()] += 1
    async with shards.directory.read() as conn:
        registrations = Counter(
            created_at.date()
            for created_at in (await conn.execute(select(accounts.c.created_at))).scalars()
        )
    per_day = {
        stats.REGISTRATIONS: registrations,
        stats.POSTS: posts_per_day,
        stats.POSTERS: Counter(day for day, _author in posters),
    }
    totals = {
        "people": sum(registrations.values()),
        "posts": sum(posts_per_day.values()),
        "follows": sum(follows_per_day.values()),
    }
    return totals, per_day


def charts(html: str) -> dict[str, ET.Element]:
    found = {}
    for markup in SVG_RE.findall(html):
        svg = ET.fromstring(markup)  # well-formed XML, or this raises
        title_id, _desc_id = svg.get("aria-labelledby").split()
        found[title_id.removesuffix("-title")] = svg
    return found


def bar_values(svg: ET.Element) -> dict[date, int]:
    return {
        date.fromisoformat(rect.get("data-day")): int(rect.get("data-value"))
        for rect in svg.iter(f"{SVG}rect")
    }


@pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
async def test_every_figure_equals_a_recount_of_the_rows(people, shards, monkeypatch) -> None:
    await scripted_day(people, shards, monkeypatch)
    page = await (await people()).get("/stats")
    assert page.status_code == 200
    totals, per_day = await recount(shards)
    assert dict(TOTAL_RE.findall(page.text)) == {k: str(v) for k, v in totals.items()}
    assert totals == {"people": 6, "posts": 1 + 1 + 3 + 1 + 2, "follows": 4}

    today = utcnow().date()
    found = charts(page.text)
    assert len(found) == 6
    for count in (7, 30):
        days = [today - timedelta(days=count - 1 - i) for i in range(count)]
        for metric in stats.DAILY_METRICS:
            svg = found[f"chart-{metric}-{count}"]
            assert bar_values(svg) == {day: per_day[metric][day] for day in days}, metric
    # The scripted figures land on their own days, not on today.
    three, ten = today - timedelta(days=3), today - timedelta(days=10)
    assert per_day[stats.POSTS][three] == 2 and per_day[stats.POSTERS][three] == 2
    assert per_day[stats.REGISTRATIONS][three] == 1
    assert per_day[stats.POSTS][ten] == 0 and per_day[stats.POSTERS][ten] == 0
    assert per_day[stats.POSTS][today] == 6 and per_day[stats.POSTERS][today] == 3
    assert per_day[stats.REGISTRATIONS][today] == 5
    # A day older than 30 is still in the totals but in no chart.
    ten_days = bar_values(found["chart-posts-30"])
    assert three in ten_days and ten in ten_days


@pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
async def test_the_migrations_backfill_counts_what_the_events_counted(
    people, shards, monkeypatch
) -> None:
    """An existing database gets the same aggregates from the migration's backfill as the
    services keep event by event."""
    await scripted_day(people, shards, monkeypatch)
    spec = importlib.util.spec_from_file_location("migration_0006", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    async def snapshot(conn) -> tuple[set, set]:
        kept = await conn.execute(select(daily_stats).where(daily_stats.c.value != 0))
        posters = await conn.execute(select(daily_posters).where(daily_posters.c.posts != 0))
        return set(map(tuple, kept)), set(map(tuple, posters))

    counted = []
    for shard in shards.shards:
        async with shard.write() as conn:
            incremental = await snapshot(conn)
            counted.append(incremental)
            await conn.execute(delete(daily_stats))
            await conn.execute(delete(daily_posters))
            for statement in migration.backfill_statements(conn.dialect.name):
                await conn.execute(text(statement))
            assert await snapshot(conn) == incremental
            # The bulk loaders' recount agrees too.
            await stats.rebuild(conn)
            assert await snapshot(conn) == incremental
    assert sum(len(stats_rows) for stats_rows, _posters in counted) >= 7  # not vacuous


async def test_a_rolled_back_post_leaves_no_figure(people, shards) -> None:
    alice = await people("alice")
    author = await account_id(shards, alice.username)
    before = await stats.read_figures(shards, utcnow().date())
    with pytest.raises(RuntimeError):
        async with shards.for_id(author).write() as conn:
            await stats.count_post(conn, compose(int(utcnow().timestamp() * 1000), 0, 1), author, 1)
            raise RuntimeError("the post's insert failed")
    assert await stats.read_figures(shards, utcnow().date()) == before


async def test_charts_are_accessible_svg(people) -> None:
    alice = await people("alice")
    await alice.post("hello")
    page = (await alice.get("/stats")).text
    assert '<a href="/stats">' in page  # the footer links here
    today = utcnow().date()
    for chart_id, svg in charts(page).items():
        assert svg.get("role") == "img"
        title_id, desc_id = svg.get("aria-labelledby").split()
        assert svg.find(f"{SVG}title").get("id") == title_id and svg.find(f"{SVG}title").text
        assert svg.find(f"{SVG}desc").get("id") == desc_id and svg.find(f"{SVG}desc").text
        rects = list(svg.iter(f"{SVG}rect"))
        assert len(rects) == int(chart_id.rsplit("-", 1)[1])  # one bar per day
        assert all(r.find(f"{SVG}title").text.endswith(f": {r.get('data-value')}") for r in rects)
        assert rects[-1].get("data-day") == today.isoformat()
    # The numbers, for screen readers, in a table beside each chart.
    assert page.count('<div class="visually-hidden"><table>') == 6
    assert "<td>1</td>" in page


async def test_the_page_speaks_the_readers_language(people) -> None:
    alice = await people("alice")
    for i in range(3):
        await alice.post(f"hallo {i}")
    alice.client.cookies.set("lang", "de")
    page = (await alice.get("/stats")).text
    assert '<html lang="de">' in page
    assert "Twoorl ist" in page or "Open-Source" in page  # the footer, from the catalog
    today = utcnow().date()
    german_day = format_skeleton("MMMd", today, locale="de")
    assert german_day != format_skeleton("MMMd", today, locale="en")
    for svg in charts(page).values():
        labels = [t.text for t in svg.iter(f"{SVG}text")]
        assert german_day in labels


async def test_figures_are_cached_for_a_minute(people, app) -> None:
    alice = await people("alice")
    first = (await alice.get("/stats")).text
    await alice.post("after the first look")
    assert TOTAL_RE.findall((await alice.get("/stats")).text) == TOTAL_RE.findall(first)
    app.state.stats_cache.clear()
    assert dict(TOTAL_RE.findall((await alice.get("/stats")).text))["posts"] == "1"


def test_day_of_id_is_the_utc_day_of_the_snowflake() -> None:
    moment = datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)
    assert stats.day_of_id(compose(int(moment.timestamp() * 1000), 5, 7)) == date(2026, 3, 1)
    assert stats.day_of_id(compose(int(moment.timestamp() * 1000) + 1000, 5, 7)) == date(2026, 3, 2)
