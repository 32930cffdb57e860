"""What a REST handler is given: path variables, query, headers and the body."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl

from meshkit.runtime.rest.body import JsonObject, Query, bad_field


class RestRequest:
    """One request, read lazily: a handler pays only for the parts it uses."""

    __slots__ = ("_headers", "_query_string", "body", "params")

    def __init__(
        self,
        params: dict[str, str],
        query_string: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
    ) -> None:
        self.params = params
        self._query_string = query_string
        self._headers = headers
        self.body = body

    def header(self, name: bytes) -> str:
        """A header's value ("" when absent); ``name`` in lower case."""
        for key, value in self._headers:
            if key == name:
                return value.decode("latin-1")
        return ""

    def query(self) -> Query:
        try:
            text = self._query_string.decode("ascii")
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
        except (UnicodeDecodeError, ValueError):
            raise bad_field("query", "malformed query string") from None
        return Query(pairs)

    def json(self) -> JsonObject:
        return JsonObject.parse(self.body)

    def optional_json(self) -> JsonObject:
        """The body's object, or an empty one when there is no body at all."""
        return JsonObject.parse(self.body) if self.body.strip() else JsonObject({})
