"""Who may do what: people, moderators (run the community) and admins (also grant roles)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANKS = {Role.USER: 0, Role.MODERATOR: 1, Role.ADMIN: 2}


def is_moderator(account) -> bool:
    """Whether ``account`` (an Account, or None for nobody) moderates: moderators are never
    kept from what they moderate (a block by a spammer does not blind them)."""
    return account is not None and role_of(account.role).at_least(Role.MODERATOR)


def role_of(value: str | None) -> Role:
    """A stored role; anything unknown counts as the least privileged."""
    try:
        return Role(value or Role.USER)
    except ValueError:
        return Role.USER
