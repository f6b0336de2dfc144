"""Fan-in, the seed's design and the source of truth: group the authors by shard, ask every
shard concurrently for its authors' newest posts, merge the sorted answers, stop at the page."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence

from twoorl.graph.service import followee_set
from twoorl.posts.models import Post
from twoorl.storage.shards import ShardSet
from twoorl.timelines import queries, windows
from twoorl.timelines.merge import merge_newest
from twoorl.timelines.paging import Page, PageRequest


async def home(shards: ShardSet, account_id: int, request: PageRequest) -> Page:
    """The reader's and their followees' posts, newest first; the first pages from the
    reader's window in this process (``windows``), so a warm page costs no statement."""
    followees = await followee_set(shards, account_id)

    def newest(wanted: int) -> Awaitable[list[Post]]:
        return from_shards(PageRequest(limit=wanted - 1))

    def from_shards(page: PageRequest) -> Awaitable[list[Post]]:
        return newest_of_authors(shards, [account_id, *followees], page)

    return await windows.home_page(
        shards.caches.home_windows,
        account_id,
        followees,
        windows.HOME_WINDOW,
        request,
        newest,
        from_shards,
    )


async def newest_of_authors(
    shards: ShardSet, authors: Sequence[int], request: PageRequest
) -> list[Post]:
    """Fan-in: the newest ``limit + 1`` posts of ``authors`` in the request's bounds, each
    shard queried concurrently for its own authors, merged until the page is full."""
    groups = shards.group_by_shard(authors)
    wanted = request.limit + 1

    async def fetch(shard, conn) -> list[Post]:
        return await queries.newest_by_authors(
            conn, groups[shard], max_id=request.upper, min_id=request.lower, limit=wanted
        )

    return merge_newest(await shards.gather(fetch, groups.keys()), wanted, key=_post_id)


def _post_id(post: Post) -> int:
    return post.id
