"""Request parameters the way Mastodon clients send them: in the query string, a form, or a
JSON body (Mastodon.py sends forms, toot sends JSON), with lists as ``name[]``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from twoorl.api.errors import ApiError
from twoorl.i18n import _
from twoorl.ids import parse_id

MAX_BODY_BYTES = 64 * 1024
TRUE_WORDS = frozenset({"1", "true", "t", "on", "yes", "y"})


class Params:
    def __init__(self, values: dict[str, list[Any]]) -> None:
        self._values = values

    @classmethod
    async def read(cls, request: Request) -> Params:
        values: dict[str, list[Any]] = {}
        for key, value in request.query_params.multi_items():
            values.setdefault(key, []).append(value)
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            for key, items in (await _body(request)).items():
                values.setdefault(key, []).extend(items)
        return cls(values)

    def _all(self, name: str) -> list[Any]:
        return self._values.get(name, []) + self._values.get(f"{name}[]", [])

    def text(self, name: str, default: str | None = None, *, max_length: int = 100_000):
        found = self._all(name)
        if not found or found[0] is None:
            return default
        value = found[0]
        if isinstance(value, bool | int | float):
            value = str(value).lower()
        if not isinstance(value, str):
            raise ApiError(422, _("The parameter %(name)s must be text.") % {"name": name})
        if len(value) > max_length:
            raise ApiError(422, _("The parameter %(name)s is too long.") % {"name": name})
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        found = self._all(name)
        if not found or found[0] is None or found[0] == "":
            return default
        value = found[0]
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in TRUE_WORDS

    def texts(self, name: str, *, max_items: int = 40) -> list[str]:
        items: list[Any] = []
        for value in self._all(name):
            items.extend(value if isinstance(value, list) else [value])
        return [str(item) for item in items[:max_items] if item is not None and item != ""]

    def id(self, name: str) -> int | None:
        """An optional snowflake id; a malformed one is an error, not silently no id."""
        value = self.text(name, max_length=40)
        if value in (None, "", "0"):
            return None  # "0" is a cursor below every id: the same as none
        parsed = parse_id(value)
        if parsed is None:
            raise ApiError(422, _("The parameter %(name)s is not a valid id.") % {"name": name})
        return parsed

    def ids(self, name: str, *, max_items: int = 40) -> list[int]:
        return [i for i in (parse_id(v) for v in self.texts(name, max_items=max_items)) if i]


async def _body(request: Request) -> dict[str, list[Any]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, _("That request is too large."))
    if not raw:
        return {}
    if content_type == "application/json":
        try:
            data = json.loads(raw)
        except ValueError:
            raise ApiError(400, _("That request body is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise ApiError(422, _("That request body must be a JSON object."))
        return {key: [value] for key, value in data.items()}
    if content_type == "":
        # No Content-Type: some clients send a urlencoded body without saying so.
        values: dict[str, list[Any]] = {}
        for key, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
            values.setdefault(key, []).append(value)
        return values
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        values = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                values.setdefault(key, []).append(value)
        return values
    raise ApiError(415, _("Send parameters as a form or as JSON."))
