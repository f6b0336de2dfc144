"""Domain objects as Mastodon entities, built in batches: a page of statuses costs a fixed
number of queries (posts, accounts, counts, reactions, mentions), whatever its length."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from twoorl.accounts import service as accounts
from twoorl.accounts.identicon import gravatar_url
from twoorl.accounts.models import Account, Counts
from twoorl.api import schemas
from twoorl.graph.blocks import hidden_ids
from twoorl.ids import timestamp_ms_of
from twoorl.notifications.service import Kind, Notification
from twoorl.posts.models import Post, Reactions
from twoorl.posts.service import get_posts
from twoorl.posts.text import hashtags, mentioned_usernames, render_html
from twoorl.reactions.service import reactions_for
from twoorl.storage.shards import ShardSet

NOTIFICATION_TYPES: dict[Kind, str] = {
    Kind.MENTION: "mention",
    Kind.REPLY: "mention",  # Mastodon has no "reply": a reply mentions whom it answers
    Kind.FOLLOW: "follow",
    Kind.LIKE: "favourite",
    Kind.REPOST: "reblog",
}
NO_ROLE = schemas.Role(id="-99", name="", color="", permissions="0", highlighted=False)


def created_at(snowflake: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms_of(snowflake) / 1000, UTC)


def paragraph(html: str) -> str:
    return "<p>" + html.replace("\n", "<br />") + "</p>" if html else ""


@dataclass
class Entities:
    """Builds entities for one request: ``base_url`` makes every link absolute and
    ``viewer_id`` fills in the viewer's own likes and reposts."""

    shards: ShardSet
    base_url: str
    viewer_id: int | None = None

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
        return schemas.Account(
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
    ):
        """Statuses for timeline entries, in order. A repost becomes a status of its own whose
        ``reblog`` is the original; a repost of a deleted post is left out, and so (with
        ``hide_muted``) are the posts of people the viewer muted or blocked, reposts by and of
        them too, except ``keep_author_id``'s."""
        entries = list(entries)
        hidden = (
            await hidden_ids(self.shards, self.viewer_id) - {keep_author_id}
            if hide_muted
            else frozenset()
        )
        originals = await get_posts(self.shards, [e.repost_of_id for e in entries if e.is_repost])
        contents = {e.id: e for e in entries if not e.is_repost} | originals
        mentioned = {
            name.lower() for post in contents.values() for name in mentioned_usernames(post.text)
        }
        mention_ids = await accounts.ids_for_usernames(self.shards, mentioned)
        people = await accounts.get_many(
            self.shards,
            [e.author_id for e in entries]
            + [p.author_id for p in contents.values()]
            + list(mention_ids.values()),
        )
        built = await self.accounts(people.values())
        reactions = await reactions_for(self.shards, contents, self.viewer_id)
        shown: list[schemas.Status] = []
        for entry in entries:
            content = originals.get(entry.repost_of_id or 0) if entry.is_repost else entry
            if content is None or content.author_id not in people:
                continue
            if entry.author_id in hidden or content.author_id in hidden:
                continue  # muted or blocked by the viewer
            if people[content.author_id].suspended or (
                entry.is_repost and entry.author_id in people and people[entry.author_id].suspended
            ):
                continue  # suspended accounts' posts leave every timeline
            status = self._status(
                content, people, built, mention_ids, reactions[content.id], source_text
            )
            if entry.is_repost:
                if entry.author_id not in people:
                    continue
                status = self._reblog(entry, people[entry.author_id], built, status)
            shown.append(status)
        return shown

    async def status(self, post: Post, *, source_text: bool = False) -> schemas.Status | None:
        # One status asked for by id is shown even if its author is muted (as on Mastodon).
        found = await self.statuses([post], source_text=source_text, hide_muted=False)
        return found[0] if found else None

    def status_url(self, author: Account, post_id: int) -> str:
        return f"{self.base_url}/@{author.username}/{post_id}"

    def _status(
        self,
        post: Post,
        people: dict[int, Account],
        built: dict[int, schemas.Account],
        mention_ids: dict[str, int],
        reactions: Reactions,
        source_text: bool,
    ) -> schemas.Status:
        author = people[post.author_id]
        mentions = []
        for name in mentioned_usernames(post.text):
            person = people.get(mention_ids.get(name.lower(), 0))
            if person:
                mentions.append(
                    schemas.Mention(
                        id=str(person.id),
                        username=person.username,
                        url=self.account_url(person),
                        acct=person.username,
                    )
                )
        return schemas.Status(
            id=str(post.id),
            uri=f"{self.base_url}/users/{author.username}/statuses/{post.id}",
            url=self.status_url(author, post.id),
            created_at=created_at(post.id),
            account=built[author.id],
            content=paragraph(str(render_html(post.text, self.base_url))),
            text=post.text if source_text else None,
            visibility="public",
            sensitive=False,
            spoiler_text="",
            media_attachments=[],
            application=None,
            mentions=mentions,
            tags=[
                schemas.StatusTag(name=tag, url=f"{self.base_url}/tags/{quote(tag)}")
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
            favourited=reactions.liked if self.viewer_id else None,
            reblogged=reactions.reposted if self.viewer_id else None,
            muted=False if self.viewer_id else None,  # conversations: Twoorl has none
            bookmarked=False if self.viewer_id else None,
            pinned=False if self.viewer_id and post.author_id == self.viewer_id else None,
        )

    def _reblog(
        self,
        entry: Post,
        reposter: Account,
        built: dict[int, schemas.Account],
        original: schemas.Status,
    ) -> schemas.Status:
        return original.model_copy(
            update={
                "id": str(entry.id),
                "uri": f"{self.base_url}/users/{reposter.username}/statuses/{entry.id}/activity",
                "url": None,
                "created_at": created_at(entry.id),
                "account": built[reposter.id],
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
        people = await accounts.get_many(self.shards, [n.actor_id for n in found])
        built = await self.accounts(people.values())
        posts = await get_posts(self.shards, [n.post_id for n in found if n.post_id])
        # Notifications from muted or blocked people are left out in SQL (notifications.service).
        statuses = {int(s.id): s for s in await self.statuses(posts.values(), hide_muted=False)}
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
