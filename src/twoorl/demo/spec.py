"""What to generate (``DemoSpec``) and what was written (``DemoSummary``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from twoorl.graph.service import MAX_FOLLOWING

# Every demo account signs in with this password (documented in ``twoorl demo-data --help``).
DEMO_PASSWORD = "twoorl-demo"
EMAIL_DOMAIN = "example.invalid"  # RFC 2606: can never receive mail
MAX_USERNAME = 30
_PREFIX_RE = re.compile(r"[A-Za-z0-9_]+")


class DemoError(Exception):
    """A demo load that cannot start; the message is meant for the person who asked."""


class UsernamesTaken(DemoError):
    """Some of the usernames (or emails) the demo would create already exist."""


@dataclass(frozen=True)
class DemoSpec:
    users: int
    posts_per_user: int = 20
    follows_per_user: int = 20
    seed: int | None = None
    days: float = 7.0
    prefix: str = "demo"
    max_post_length: int = 140
    # A follow also tells the followee ("ana followed you"), as the follow job does.
    notifications: bool = True

    def __post_init__(self) -> None:
        if self.users < 1:
            raise DemoError("--users must be at least 1")
        if self.posts_per_user < 0 or self.follows_per_user < 0:
            raise DemoError("--posts-per-user and --follows-per-user cannot be negative")
        if self.follows_per_user > self.users - 1:
            raise DemoError(
                f"--follows-per-user {self.follows_per_user} needs at least "
                f"{self.follows_per_user + 1} users (nobody follows themselves)"
            )
        if self.follows_per_user > MAX_FOLLOWING:
            raise DemoError(f"--follows-per-user is at most {MAX_FOLLOWING}, as for everyone")
        if not self.days > 0:
            raise DemoError("--days must be more than 0")
        if not _PREFIX_RE.fullmatch(self.prefix):
            raise DemoError("--prefix may hold only letters, digits and underscores")
        if len(self.username(self.users)) > MAX_USERNAME:
            raise DemoError(f"--prefix is too long: usernames are at most {MAX_USERNAME} long")

    def username(self, number: int) -> str:
        """The username of demo person ``number`` (1-based): demo1, demo2, ..."""
        return f"{self.prefix}{number}"

    def email(self, number: int) -> str:
        return f"{self.username(number)}@{EMAIL_DOMAIN}"


@dataclass(frozen=True)
class DemoSummary:
    account_ids: list[int] = field(repr=False)  # demo1..demoN, in that order
    posts: int
    tags: int
    follows: int
    notifications: int
    rows: int  # every row written, on every shard
    seconds: float

    @property
    def users(self) -> int:
        return len(self.account_ids)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0
