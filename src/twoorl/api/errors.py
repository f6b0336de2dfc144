"""API errors: Mastodon answers ``{"error": "..."}`` with the HTTP status, never an HTML page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

API_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/")


class ApiError(Exception):
    def __init__(
        self, status_code: int, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = headers or {}


def is_api_request(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIXES)


def error_response(
    status_code: int,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    error: str | None = None,
) -> JSONResponse:
    """``error`` is an OAuth machine code (``invalid_grant``); the message then goes into
    ``error_description``, as RFC 6749 has it."""
    body = {"error": error, "error_description": message} if error else {"error": message}
    return JSONResponse(body, status_code=status_code, headers=headers)
