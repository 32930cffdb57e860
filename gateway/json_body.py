"""Strict JSON at the edge: UTF-8 only, no duplicate keys, bounded depth.

``json.loads`` alone accepts duplicate keys (the last wins), recurses until Python's
recursion limit on deep nesting, and turns invalid UTF-8 into a decode error deep in the
stack; each of those must be a 400 that names the problem, decided before any upstream
call (R-A1, A2, A7, A8).
"""

from __future__ import annotations

import json
import re
from typing import Any

from gateway.problems import BadRequest

MAX_DEPTH = 100
"""Deepest nesting of objects/arrays accepted; 32 levels round-trip, 101 are refused."""

# Strings are skipped whole (escapes included), so brackets inside them don't count.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise BadRequest(f"duplicate JSON key {key!r}")
        result[key] = value
    return result


def _check_depth(text: str) -> None:
    depth = 0
    for token in _TOKENS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise BadRequest(f"JSON nested deeper than {MAX_DEPTH} levels")
        elif char in "]}":
            depth -= 1


def decode_text(body: bytes) -> str:
    """The body as text; anything but valid UTF-8 (overlong forms included) is a 400."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"request body is not valid UTF-8 (byte {exc.start})") from None


def parse_json(text: str) -> Any:
    """Parses one JSON document strictly; every failure is a BadRequest."""
    if not text.strip():
        raise BadRequest("request body is empty; a JSON document is required")
    _check_depth(text)
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:  # pragma: no cover - _check_depth refuses such input first
        raise BadRequest("JSON nested too deeply") from None
