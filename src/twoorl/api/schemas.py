"""Mastodon's entities as response models (https://docs.joinmastodon.org/entities/).

Every documented field is present: empty lists and nulls stand for what Twoorl has no such
thing as (media, polls, custom emoji), so strict clients that parse into typed records work.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, PlainSerializer


def _mastodon_time(value: datetime) -> str:
    # Mastodon's form: milliseconds and a literal Z (``2026-11-26T13:40:00.000Z``).
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


Timestamp = Annotated[datetime, PlainSerializer(_mastodon_time, return_type=str)]
Day = Annotated[date, PlainSerializer(lambda d: d.isoformat(), return_type=str)]


class Entity(BaseModel):
    model_config = ConfigDict(frozen=True)


class CustomEmoji(Entity):
    shortcode: str
    url: str
    static_url: str
    visible_in_picker: bool
    category: str | None = None


class Field(Entity):
    name: str
    value: str
    verified_at: Timestamp | None = None


class Source(Entity):
    note: str
    fields: list[Field]
    privacy: Literal["public", "unlisted", "private", "direct"]
    sensitive: bool
    language: str | None
    follow_requests_count: int


class Role(Entity):
    id: str
    name: str
    color: str
    permissions: str
    highlighted: bool


class AccountRole(Entity):
    id: str
    name: str
    color: str


class Account(Entity):
    id: str
    username: str
    acct: str
    url: str
    uri: str
    display_name: str
    note: str
    avatar: str
    avatar_static: str
    header: str
    header_static: str
    locked: bool
    fields: list[Field]
    emojis: list[CustomEmoji]
    bot: bool
    group: bool
    discoverable: bool | None
    indexable: bool
    hide_collections: bool | None
    noindex: bool | None
    moved: Account | None = None
    suspended: bool
    limited: bool
    roles: list[AccountRole]
    created_at: Timestamp
    last_status_at: Day | None
    statuses_count: int
    followers_count: int
    following_count: int


class CredentialAccount(Account):
    source: Source
    role: Role


class Mention(Entity):
    id: str
    username: str
    url: str
    acct: str


class TagHistory(Entity):
    day: str
    uses: str
    accounts: str


class Tag(Entity):
    name: str
    url: str
    history: list[TagHistory]
    following: bool | None = None


class StatusTag(Entity):
    name: str
    url: str


class Application(Entity):
    name: str
    website: str | None


class RegisteredApplication(Application):
    id: str
    redirect_uri: str
    redirect_uris: list[str]
    scopes: list[str]
    client_id: str
    client_secret: str
    vapid_key: str


class Status(Entity):
    id: str
    uri: str
    url: str | None
    created_at: Timestamp
    account: Account
    content: str
    text: str | None
    visibility: Literal["public", "unlisted", "private", "direct"]
    sensitive: bool
    spoiler_text: str
    media_attachments: list[dict[str, Any]]
    application: Application | None
    mentions: list[Mention]
    tags: list[StatusTag]
    emojis: list[CustomEmoji]
    reblogs_count: int
    favourites_count: int
    replies_count: int
    in_reply_to_id: str | None
    in_reply_to_account_id: str | None
    reblog: Status | None
    poll: dict[str, Any] | None
    card: dict[str, Any] | None
    language: str | None
    edited_at: Timestamp | None
    favourited: bool | None = None
    reblogged: bool | None = None
    muted: bool | None = None
    bookmarked: bool | None = None
    pinned: bool | None = None
    filtered: list[dict[str, Any]] | None = None


class Context(Entity):
    ancestors: list[Status]
    descendants: list[Status]


class Relationship(Entity):
    id: str
    following: bool
    showing_reblogs: bool
    notifying: bool
    languages: list[str] | None
    followed_by: bool
    blocking: bool
    blocked_by: bool
    muting: bool
    muting_notifications: bool
    requested: bool
    requested_by: bool
    domain_blocking: bool
    endorsed: bool
    note: str


NotificationType = Literal[
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
]


class Notification(Entity):
    id: str
    type: NotificationType
    created_at: Timestamp
    account: Account
    status: Status | None = None
    report: dict[str, Any] | None = None


class Token(Entity):
    access_token: str
    token_type: Literal["Bearer"]
    scope: str
    created_at: int


class Search(Entity):
    accounts: list[Account]
    statuses: list[Status]
    hashtags: list[Tag]


class Rule(Entity):
    id: str
    text: str
    hint: str = ""


class InstanceUrls(Entity):
    streaming_api: str


class InstanceStats(Entity):
    user_count: int
    status_count: int
    domain_count: int


class StatusesConfiguration(Entity):
    max_characters: int
    max_media_attachments: int
    characters_reserved_per_url: int


class MediaConfiguration(Entity):
    supported_mime_types: list[str]
    image_size_limit: int
    image_matrix_limit: int
    video_size_limit: int
    video_frame_rate_limit: int
    video_matrix_limit: int


class PollsConfiguration(Entity):
    max_options: int
    max_characters_per_option: int
    min_expiration: int
    max_expiration: int


class AccountsConfiguration(Entity):
    max_featured_tags: int


class InstanceConfigurationV1(Entity):
    accounts: AccountsConfiguration
    statuses: StatusesConfiguration
    media_attachments: MediaConfiguration
    polls: PollsConfiguration


class InstanceV1(Entity):
    uri: str
    title: str
    short_description: str
    description: str
    email: str
    version: str
    urls: InstanceUrls
    stats: InstanceStats
    thumbnail: str | None
    languages: list[str]
    registrations: bool
    approval_required: bool
    invites_enabled: bool
    configuration: InstanceConfigurationV1
    contact_account: Account | None
    rules: list[Rule]


class Thumbnail(Entity):
    url: str
    blurhash: str | None = None
    versions: dict[str, str] = {}


class UsageUsers(Entity):
    active_month: int


class Usage(Entity):
    users: UsageUsers


class ConfigurationUrls(Entity):
    streaming: str
    status: str | None = None


class TranslationConfiguration(Entity):
    enabled: bool


class InstanceConfigurationV2(InstanceConfigurationV1):
    urls: ConfigurationUrls
    translation: TranslationConfiguration


class Registrations(Entity):
    enabled: bool
    approval_required: bool
    message: str | None


class Contact(Entity):
    email: str
    account: Account | None


class InstanceV2(Entity):
    domain: str
    title: str
    version: str
    source_url: str
    description: str
    usage: Usage
    thumbnail: Thumbnail
    languages: list[str]
    configuration: InstanceConfigurationV2
    registrations: Registrations
    contact: Contact
    rules: list[Rule]


class Empty(Entity):
    pass


class Error(Entity):
    error: str
    error_description: str | None = None


class Report(Entity):
    id: str
    action_taken: bool
    action_taken_at: Timestamp | None
    category: Literal["spam", "violation", "legal", "other"]
    comment: str
    forwarded: bool
    created_at: Timestamp
    status_ids: list[str] | None
    rule_ids: list[str] | None
    target_account: Account
