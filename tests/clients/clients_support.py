"""Helpers for the real-client tests: people registered through the web pages of a live
server, and waiting for what background jobs bring a moment later."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery"
T = TypeVar("T")


def browser_session(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)


def csrf_token(session: httpx.Client, path: str) -> str:
    match = CSRF_RE.search(session.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def register(base_url: str, username: str) -> httpx.Client:
    """A signed-in browser session for a new account ``username`` (password ``PASSWORD``)."""
    session = browser_session(base_url)
    response = session.post(
        "/register",
        data={
            "csrf_token": csrf_token(session, "/register"),
            "username": username,
            "email": f"{username}@example.org",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303, response.text
    return session


def eventually(check: Callable[[], T], *, timeout: float = 15.0, every: float = 0.2) -> T:
    """``check()``'s first truthy answer: background jobs (notifications, follower lists)
    finish a moment after the request that queued them."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(every)
