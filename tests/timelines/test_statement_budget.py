"""The hot path has a budget: what a timeline page or API timeline asks of the databases
and Redis, counted exactly (``statement_counter``), on 1 and 3 SQLite shards and 3
PostgreSQL shards. A feature that needs data on a page brings it through the read model
(``timelines.visible``) in the same rounds, never as one more query per shard."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from api_support import ApiUser, web_and_api_user
from statement_counter import counting
from twoorl.ids import logical_shard_of

pytestmark = pytest.mark.parametrize(
    "shard_urls", ["sqlite", "sqlite3", "postgres3"], indirect=True
)

AUTHORS_PER_SHARD = 2
MIN_AUTHORS = 5  # one muted, one blocked, and still some to read


@pytest.fixture
async def busy_world(app, people, shards):
    """A reader following authors on every shard; posts with mentions and tags, replies,
    reposts, likes, a mute and a block: everything a page hydrates."""
    reader_web, reader = await web_and_api_user(app, people, "reader")
    authors: list[ApiUser] = []
    per_shard: dict[int, int] = {}
    number = 0
    while (
        len(authors) < MIN_AUTHORS
        or len(per_shard) < len(shards)
        or min(per_shard.values()) < AUTHORS_PER_SHARD
    ):
        number += 1
        _web, author = await web_and_api_user(app, people, f"author{number}")
        shard = shards.for_logical(logical_shard_of(int(author.id))).index
        per_shard[shard] = per_shard.get(shard, 0) + 1
        authors.append(author)
        await reader.post(f"/api/v1/accounts/{author.id}/follow")
    posts = []
    for i, author in enumerate(authors):
        other = authors[(i + 1) % len(authors)]
        posts.append(await author.status(f"hello @{other.username} #budget number {i}"))
        posts.append(await author.status(f"second thought #budget from {author.username}"))
    for i, author in enumerate(authors):
        target = posts[(2 * i + 3) % len(posts)]
        await author.post(f"/api/v1/statuses/{target['id']}/reblog")
        await author.status(
            f"@{target['account']['username']} a reply", in_reply_to_id=target["id"]
        )
        await reader.post(f"/api/v1/statuses/{target['id']}/favourite")
    await reader.post(f"/api/v1/accounts/{authors[0].id}/mute")
    await reader.post(f"/api/v1/accounts/{authors[-1].id}/block")
    await app.state.services.worker.drain()
    yield {"reader": reader, "reader_web": reader_web, "author": authors[1], "post": posts[2]}


def plain_client(app, **kwargs) -> httpx.AsyncClient:
    """A client that does not drain the job queue after each answer (that would be counted)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", **kwargs
    )


# What each page may ask of the databases, cold (this process's caches empty): ``fixed``
# statements whatever the number of shards (the change feed, the session or token, the
# viewer's own shard, the directory), and at most
# ``per_shard`` on each shard that holds some of the page (its posts, their originals, their
# counters, their authors' counters). SQLite's BEGIN before each read is not counted here.
BUDGETS = {
    "api home": (6, 5),  # SQLite reads a home timeline in two statements per shard
    "api public": (5, 3),
    "api tag": (5, 3),
    "api account statuses": (9, 3),
    "api notifications": (7, 3),
    "home page": (7, 4),
    "public page": (6, 2),
    "profile page": (14, 2),
    "thread page": (10, 2),
}


def paths(world) -> dict[str, tuple[str, str]]:
    author, post = world["author"], world["post"]
    return {
        "api home": ("reader_api", "/api/v1/timelines/home"),
        "api public": ("reader_api", "/api/v1/timelines/public"),
        "api tag": ("reader_api", "/api/v1/timelines/tag/budget"),
        "api account statuses": ("reader_api", f"/api/v1/accounts/{author.id}/statuses"),
        "api notifications": ("author_api", "/api/v1/notifications"),
        "home page": ("reader_web", "/"),
        "public page": ("reader_web", "/public"),
        "profile page": ("reader_web", f"/@{author.username}"),
        "thread page": ("reader_web", f"/@{post['account']['username']}/{post['id']}"),
    }


@pytest.fixture
async def clients(app, busy_world):
    made = {
        "reader_api": plain_client(
            app, headers={"Authorization": f"Bearer {busy_world['reader'].token}"}
        ),
        "author_api": plain_client(
            app, headers={"Authorization": f"Bearer {busy_world['author'].token}"}
        ),
        "reader_web": plain_client(app, cookies=busy_world["reader_web"].client.cookies),
    }
    yield made
    for client in made.values():
        await client.aclose()


async def counted(shards, client: httpx.AsyncClient, path: str, *, warm: bool):
    """What ``path`` asks, cold (this process's caches empty) or warm (asked just before)."""
    response = await client.get(path)  # what a first request sets up is not the hot path
    assert response.status_code == 200, response.text
    if not warm:
        shards.caches.clear()
    with counting(shards) as counts:
        response = await client.get(path)
    assert response.status_code == 200, response.text
    assert "data-post-id" in response.text or response.json(), f"{path} shows nothing"
    return counts


def queries_of(counts) -> list[tuple[int, str]]:
    return [(shard, sql) for shard, sql in counts.statements if sql != "BEGIN"]


@pytest.mark.parametrize("page", list(BUDGETS))
async def test_a_page_costs_a_fixed_number_of_statements_per_shard(
    shards, busy_world, clients, page: str
) -> None:
    who, path = paths(busy_world)[page]
    counts = await counted(shards, clients[who], path, warm=False)
    fixed, per_shard = BUDGETS[page]
    # A page holds 20 posts by a dozen people: a query per post or per author would be
    # far over (and the count on 1 shard is what the ``fixed`` part was measured on).
    assert len(queries_of(counts)) <= fixed + per_shard * len(shards), counts.report()
    assert counts.redis_round_trips == 0  # no Redis on these backends


# Warm, everything a page shows about posts and people, the viewer's own likes and reposts,
# and the newest entries of each timeline (``timelines.windows``) come from this process's
# caches: what is left is the change feed (one statement) and the viewer's own shard.
# Nothing grows with the shards, and no timeline page needs more than 2 statements.
WARM_BUDGETS = {
    "api home": (1, 0),
    "api public": (1, 0),
    "api tag": (1, 0),
    "api account statuses": (1, 0),  # the author's posts have a window (a profile's)
    "api notifications": (2, 0),  # the viewer's shard only
    "home page": (1, 0),
    "public page": (1, 0),
    "profile page": (1, 0),  # the author's own posts have a window too
    "thread page": (2, 0),  # and the viewer's own replies of the last minutes
}


@pytest.mark.parametrize("page", list(WARM_BUDGETS))
async def test_a_warm_page_costs_the_same_on_any_number_of_shards(
    shards, busy_world, clients, page: str
) -> None:
    who, path = paths(busy_world)[page]
    counts = await counted(shards, clients[who], path, warm=True)
    fixed, per_shard = WARM_BUDGETS[page]
    assert len(queries_of(counts)) <= fixed + per_shard * len(shards), counts.report()
    assert counts.redis_round_trips == 0


async def test_the_counter_sees_each_statement_and_each_shard(shards) -> None:
    with counting(shards) as counts:
        for shard in shards.shards:
            async with shard.read() as conn:
                await conn.execute(text("SELECT 1"))
    assert set(counts.by_shard) == {shard.index for shard in shards.shards}
    assert [sql for _, sql in counts.statements if sql != "BEGIN"] == ["SELECT 1"] * len(shards)


@pytest.mark.parametrize("page", ["api public", "public page"])
async def test_a_new_post_joins_the_warm_public_timeline_without_a_read_of_every_shard(
    shards, busy_world, clients, page: str
) -> None:
    """The public window takes a new post in by id: the next page asks the post's own shard
    for it (and for what is shown with it), not every shard for its newest entries."""
    who, path = paths(busy_world)[page]
    await counted(shards, clients[who], path, warm=True)
    author = busy_world["author"]
    fresh = await author.status("just arrived")
    with counting(shards) as counts:
        response = await clients[who].get(path)
    assert fresh["id"] in response.text
    reads_of_newest = [sql for _, sql in queries_of(counts) if "ORDER BY posts.id DESC" in sql]
    assert reads_of_newest == [], counts.report()
    fixed, _per_shard = WARM_BUDGETS[page]
    # The post itself is cached by the process that wrote it, and what the viewer did to
    # recent posts is one set per viewer: what is new is its author's post count.
    assert len(queries_of(counts)) <= fixed + 1, counts.report()
