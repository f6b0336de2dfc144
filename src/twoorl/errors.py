"""Errors a person can cause. Each carries a message already in their language and the HTTP
status that the web and API layers answer with."""

from __future__ import annotations


class TwoorlError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(TwoorlError):
    status_code = 422


class NotFound(TwoorlError):
    status_code = 404


class Forbidden(TwoorlError):
    status_code = 403


class Conflict(TwoorlError):
    status_code = 409


class Unauthorized(TwoorlError):
    status_code = 401


class RateLimited(TwoorlError):
    status_code = 429


class Unavailable(TwoorlError):
    status_code = 503
