"""The account as the rest of the code sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    email: str
    display_name: str
    bio: str
    locale: str | None
    use_gravatar: bool
    profile_color: str
    created_at: datetime
    role: str = "user"
    spam: bool = False
    suspended_at: datetime | None = None

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @classmethod
    def from_row(cls, row: Row) -> Account:
        return cls(
            id=row.id,
            username=row.username,
            email=row.email,
            display_name=row.display_name,
            bio=row.bio,
            locale=row.locale,
            use_gravatar=bool(row.use_gravatar),
            profile_color=row.profile_color,
            created_at=row.created_at,
            role=row.role,
            spam=bool(row.spam),
            suspended_at=row.suspended_at,
        )


@dataclass(frozen=True)
class Counts:
    posts: int = 0
    following: int = 0
    followers: int = 0
