"""Domain objects as Mastodon entities: a formatter over ``timelines.visible``, which
decides what the viewer sees and loads it in batches (a fixed number of queries per page,
whatever its length). Entities are built with ``model_construct``: what goes in is ours and
already clean, so validating each field of every status on every request would only cost
(the schemas still describe every response in the OpenAPI document)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from cachetools import LRUCache
from pydantic import TypeAdapter

from twoorl.accounts import service as accounts
from twoorl.accounts.identicon import gravatar_url
from twoorl.accounts.models import Account, Counts
from twoorl.api import schemas
from twoorl.ids import timestamp_ms_of
from twoorl.notifications.service import Kind, Notification
from twoorl.posts.models import Post, PostView
from twoorl.posts.service import get_posts
from twoorl.posts.text import hashtags, render_html
from twoorl.storage.shards import ShardSet
from twoorl.timelines.visible import Seen, visible

NOTIFICATION_TYPES: dict[Kind, str] = {
    Kind.MENTION: "mention",
    Kind.REPLY: "mention",  # Mastodon has no "reply": a reply mentions whom it answers
    Kind.FOLLOW: "follow",
    Kind.LIKE: "favourite",
    Kind.REPOST: "reblog",
}
_STATUS = TypeAdapter(schemas.Status)
# Each status's JSON, keyed by everything it is made of (the post view with its people and
# counts, the authors' counters, what the viewer's presence changes): a change is a new key,
# so nothing has to be dropped, and old keys age out of the LRU.
STATUS_JSON: LRUCache[tuple, bytes] = LRUCache(maxsize=10_000)
NO_ROLE = schemas.Role(id="-99", name="", color="", permissions="0", highlighted=False)


def created_at(snowflake: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms_of(snowflake) / 1000, UTC)


def paragraph(html: str) -> str:
    return "<p>" + html.replace("\n", "<br />") + "</p>" if html else ""


@dataclass
class Entities:
    """Builds entities for one request: ``base_url`` makes every link absolute and
    ``viewer`` fills in the viewer's own likes and reposts and decides what they see."""

    shards: ShardSet
    base_url: str
    viewer: Account | None = None

    # Accounts

    def account_url(self, account: Account) -> str:
        return f"{self.base_url}/@{account.username}"

    def avatar(self, account: Account) -> str:
        if account.use_gravatar:
            return gravatar_url(account.email, 400)
        return f"{self.base_url}/avatars/{account.id}.svg"

    def _account(self, account: Account, counts: Counts, last_post_id: int | None):
        avatar = self.avatar(account)
        header = f"{self.base_url}/static/header.svg"
        return schemas.Account.model_construct(
            id=str(account.id),
            username=account.username,
            acct=account.username,
            url=self.account_url(account),
            uri=f"{self.base_url}/users/{account.username}",
            display_name=account.display_name,
            note=paragraph(str(render_html(account.bio, self.base_url))),
            avatar=avatar,
            avatar_static=avatar,
            header=header,
            header_static=header,
            locked=False,
            fields=[],
            emojis=[],
            bot=False,
            group=False,
            discoverable=True,
            indexable=True,
            hide_collections=False,
            noindex=False,
            suspended=account.suspended,
            limited=False,
            roles=[],
            created_at=account.created_at,
            last_status_at=created_at(last_post_id).date() if last_post_id else None,
            statuses_count=counts.posts,
            followers_count=counts.followers,
            following_count=counts.following,
        )

    async def accounts(self, people: Iterable[Account]) -> dict[int, schemas.Account]:
        people = {person.id: person for person in people}
        stats = await accounts.stats_for_many(self.shards, people)
        return {i: self._account(person, *stats[i]) for i, person in people.items()}

    async def account(self, person: Account) -> schemas.Account:
        return (await self.accounts([person]))[person.id]

    async def accounts_in_order(self, account_ids: list[int]) -> list[schemas.Account]:
        people = await accounts.get_many(self.shards, account_ids)
        built = await self.accounts(people.values())
        return [built[i] for i in account_ids if i in built]

    async def credential_account(self, person: Account) -> schemas.CredentialAccount:
        public = await self.account(person)
        return schemas.CredentialAccount(
            **public.model_dump(),
            source=schemas.Source(
                note=person.bio,
                fields=[],
                privacy="public",
                sensitive=False,
                # ISO 639-1, as Mastodon has it: pt_BR is "pt".
                language=person.locale.split("_")[0] if person.locale else None,
                follow_requests_count=0,
            ),
            role=NO_ROLE,
        )

    # Statuses

    async def statuses(
        self,
        entries: Iterable[Post],
        *,
        source_text: bool = False,
        hide_muted: bool = True,
        keep_author_id: int | None = None,
    ) -> list[schemas.Status]:
        """Statuses for timeline entries, in order, as ``timelines.visible`` decides what the
        viewer sees. A repost becomes a status of its own whose ``reblog`` is the original;
        ``hide_muted=False`` for posts asked for by id (shown even if their author is muted,
        as on Mastodon)."""
        seen = await self._seen(entries, hide_muted, keep_author_id)
        return [self._built_status(seen, view, source_text) for view in seen.posts]

    async def statuses_json(
        self, entries: Iterable[Post], *, keep_author_id: int | None = None
    ) -> bytes:
        """What :meth:`statuses` gives, as a JSON array: each status's JSON comes from
        ``STATUS_JSON`` when nothing it is made of has changed (the hot path of timelines)."""
        seen = await self._seen(entries, True, keep_author_id)
        viewer_id = self.viewer.id if self.viewer else None
        parts = []
        for view in seen.posts:
            reposter = view.reposted_by
            key = (
                view,
                seen.stats[view.author.id],
                seen.stats[reposter.id] if reposter else None,
                viewer_id is not None,
                view.post.author_id == viewer_id,
                self.base_url,
            )
            part = STATUS_JSON.get(key)
            if part is None:
                part = _STATUS.dump_json(self._built_status(seen, view, False))
                STATUS_JSON[key] = part
            parts.append(part)
        return b"[" + b",".join(parts) + b"]"

    async def _seen(
        self, entries: Iterable[Post], hide_muted: bool, keep_author_id: int | None
    ) -> Seen:
        return await visible(
            self.shards,
            entries,
            self.viewer,
            keep_author_id=keep_author_id,
            hide=hide_muted,
            account_stats=True,
        )

    def _built_status(self, seen: Seen, view: PostView, source_text: bool) -> schemas.Status:
        author = self._account(view.author, *seen.stats[view.author.id])
        status = self._status(view, author, source_text)
        if view.reposted_by is not None:
            reposter = self._account(view.reposted_by, *seen.stats[view.reposted_by.id])
            status = self._reblog(view, reposter, status)
        return status

    async def status(self, post: Post, *, source_text: bool = False) -> schemas.Status | None:
        found = await self.statuses([post], source_text=source_text, hide_muted=False)
        return found[0] if found else None

    def status_url(self, author: Account, post_id: int) -> str:
        return f"{self.base_url}/@{author.username}/{post_id}"

    def _status(self, view: PostView, author: schemas.Account, source_text: bool) -> schemas.Status:
        post, reactions = view.post, view.reactions
        viewer_id = self.viewer.id if self.viewer else None
        return schemas.Status.model_construct(
            id=str(post.id),
            uri=f"{self.base_url}/users/{view.author.username}/statuses/{post.id}",
            url=self.status_url(view.author, post.id),
            created_at=created_at(post.id),
            account=author,
            content=paragraph(str(render_html(post.text, self.base_url))),
            text=post.text if source_text else None,
            visibility="public",
            sensitive=False,
            spoiler_text="",
            media_attachments=[],
            application=None,
            mentions=[
                schemas.Mention.model_construct(
                    id=str(person.id),
                    username=person.username,
                    url=self.account_url(person),
                    acct=person.username,
                )
                for person in view.mentions
            ],
            tags=[
                schemas.StatusTag.model_construct(
                    name=tag, url=f"{self.base_url}/tags/{quote(tag)}"
                )
                for tag in hashtags(post.text)
            ],
            emojis=[],
            reblogs_count=reactions.reposts,
            favourites_count=reactions.likes,
            replies_count=reactions.replies,
            in_reply_to_id=str(post.in_reply_to_id) if post.in_reply_to_id else None,
            in_reply_to_account_id=(
                str(post.in_reply_to_account_id) if post.in_reply_to_account_id else None
            ),
            reblog=None,
            poll=None,
            card=None,
            language=None,
            edited_at=None,
            favourited=reactions.liked if viewer_id else None,
            reblogged=reactions.reposted if viewer_id else None,
            muted=False if viewer_id else None,  # conversations: Twoorl has none
            bookmarked=False if viewer_id else None,
            pinned=False if viewer_id and post.author_id == viewer_id else None,
        )

    def _reblog(
        self, view: PostView, reposter: schemas.Account, original: schemas.Status
    ) -> schemas.Status:
        username = view.reposted_by.username if view.reposted_by else ""
        return original.model_copy(
            update={
                "id": str(view.entry_id),
                "uri": f"{self.base_url}/users/{username}/statuses/{view.entry_id}/activity",
                "url": None,
                "created_at": created_at(view.entry_id),
                "account": reposter,
                "content": "",
                "text": None,
                "mentions": [],
                "tags": [],
                "reblogs_count": 0,
                "favourites_count": 0,
                "replies_count": 0,
                "in_reply_to_id": None,
                "in_reply_to_account_id": None,
                "reblog": original,
                "pinned": None,
            }
        )

    # Notifications

    async def notifications(self, found: list[Notification]) -> list[schemas.Notification]:
        people, posts = await asyncio.gather(
            accounts.get_many(self.shards, [n.actor_id for n in found]),
            get_posts(self.shards, [n.post_id for n in found if n.post_id]),
        )
        # Notifications from muted or blocked people are left out in SQL (notifications.service).
        built, about = await asyncio.gather(
            self.accounts(people.values()), self.statuses(posts.values(), hide_muted=False)
        )
        statuses = {int(s.id): s for s in about}
        shown = []
        for item in found:
            if item.actor_id not in built:
                continue  # the actor's account is gone
            status = statuses.get(item.post_id or 0)
            if item.post_id and status is None:
                continue  # the post it was about was deleted
            shown.append(
                schemas.Notification(
                    id=str(item.id),
                    type=NOTIFICATION_TYPES[item.kind],
                    created_at=created_at(item.id),
                    account=built[item.actor_id],
                    status=status,
                )
            )
        return shown
