"""Reading request bodies from ASGI ``receive``: whole, or as NDJSON lines."""

from __future__ import annotations

from collections.abc import AsyncIterator

from gateway.problems import BadRequest
from meshkit.asgi import Receive

MAX_LINE_BYTES = 1024 * 1024
"""Longest NDJSON line (one streamed message) accepted."""


class ClientGone(Exception):
    """The client disconnected before the request body was complete."""


async def read_body(receive: Receive) -> bytes:
    """The whole body. (Its size is bounded by the edge's body limit before this runs.)"""
    chunks: list[bytes] = []
    while True:
        event = await receive()
        if event["type"] == "http.disconnect":
            raise ClientGone
        chunks.append(event.get("body", b""))
        if not event.get("more_body", False):
            return b"".join(chunks)


async def ndjson_lines(receive: Receive) -> AsyncIterator[bytes]:
    """Non-empty lines of an NDJSON body as they arrive."""
    pending = b""
    while True:
        event = await receive()
        if event["type"] == "http.disconnect":
            raise ClientGone
        pending += event.get("body", b"")
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                yield line
        if len(pending) > MAX_LINE_BYTES:
            raise BadRequest(f"an NDJSON line is longer than {MAX_LINE_BYTES} bytes")
        if not event.get("more_body", False):
            if pending.strip():
                yield pending
            return
