"""A response cache for GETs on configured path prefixes, with TTLs and Cache-Control.

Stored: complete 200 responses with a Content-Length within ``cache_max_entry_bytes``,
no Set-Cookie, no Vary, not NDJSON (a stream is never buffered), and no ``no-store``,
``no-cache`` or ``private`` from the app. The key holds the authenticated client id, so
one client never gets another's answer; an unauthenticated request that carries
Authorization or Cookie (which the upstream may act on) bypasses the cache entirely.
A request's ``Cache-Control: no-cache`` (or ``max-age=0``) skips the lookup and
refreshes the entry; ``no-store`` also keeps the answer out. Responses on cached routes
carry ``X-Cache: HIT|MISS``; hits also ``Age`` and ``Cache-Control: max-age=<ttl>``.
Concurrent misses for one key all reach the app (no request coalescing).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.edge.auth import CLIENT_ID
from gateway.edge.cache_store import CachedResponse, ResponseStore, cache_key, ttl_for
from gateway.edge.config import EdgeConfig
from meshkit.asgi import ASGIApp, Header, Message, Receive, Scope, Send, header_values

_NOT_STORED = frozenset(
    {b"connection", b"keep-alive", b"transfer-encoding", b"age", b"x-cache", b"x-request-id"}
)
"""Hop-by-hop or per-request headers: never replayed to another request."""
_UNCACHEABLE_DIRECTIVES = frozenset({"no-store", "no-cache", "private"})


class ResponseCache:
    """Serves fresh stored GET responses; stores eligible ones on their way out."""

    def __init__(
        self, app: ASGIApp, config: EdgeConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._app = app
        self._ttls = config.cache_ttls
        self._max_entry_bytes = config.cache_max_entry_bytes
        self._store = ResponseStore(config.cache_max_entries, clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ttl = ttl_for(scope["path"], self._ttls) if scope["type"] == "http" else 0.0
        identity = _identity(scope)
        if not ttl or scope["method"] != "GET" or identity is None:
            await self._app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        key = cache_key("GET", raw_path, scope.get("query_string", b""), identity)
        asked = _directives(header_values(scope, b"cache-control"))
        if not asked & {"no-cache", "no-store", "max-age=0"}:
            hit = self._store.get(key)
            if hit is not None:
                await _replay(*hit, send)
                return
        recorder = _Recorder(send, ttl, self._max_entry_bytes, store="no-store" not in asked)
        await self._app(scope, receive, recorder.send)
        if recorder.body is not None:
            self._store.put(key, 200, recorder.headers, recorder.body, ttl)


def _identity(scope: Scope) -> str | None:
    """Whose answer this is: the client id, "" for anonymous, None when not cacheable."""
    if scope["type"] != "http":
        return None
    client_id = (scope.get("state") or {}).get(CLIENT_ID)
    if client_id:
        return str(client_id)
    credentials = header_values(scope, b"authorization") + header_values(scope, b"cookie")
    return None if credentials else ""


def _directives(values: list[bytes]) -> set[str]:
    joined = b",".join(values).decode("latin-1").lower()
    return {item.strip().replace(" ", "") for item in joined.split(",")} - {""}


def _max_age(ttl_s: float) -> Header:
    return (b"cache-control", f"max-age={int(ttl_s)}".encode())


async def _replay(entry: CachedResponse, age: float, send: Send) -> None:
    headers = [*entry.headers, (b"x-cache", b"HIT"), (b"age", str(int(age)).encode())]
    if not any(name == b"cache-control" for name, _ in entry.headers):
        headers.append(_max_age(entry.ttl_s))
    await send({"type": "http.response.start", "status": entry.status, "headers": headers})
    await send({"type": "http.response.body", "body": entry.body, "more_body": False})


class _Recorder:
    """Passes the app's response through at once, keeping a copy when it is storable."""

    def __init__(self, send: Send, ttl_s: float, max_bytes: int, *, store: bool) -> None:
        self._send, self._ttl_s, self._max_bytes, self._store = send, ttl_s, max_bytes, store
        self._length = -1  # the declared length of a response being kept; -1: not kept
        self._chunks: list[bytes] = []
        self.headers: list[Header] = []
        self.body: bytes | None = None
        """The complete body once a storable response has been fully sent."""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            # Names lower-cased once (ASGI asks apps for that, not every app obliges).
            headers = [(name.lower(), value) for name, value in message.get("headers", ())]
            self._length = self._storable_length(message["status"], headers)
            added = [(b"x-cache", b"MISS")]
            if self._length >= 0 and not any(name == b"cache-control" for name, _ in headers):
                added.append(_max_age(self._ttl_s))
            self.headers = [(name, value) for name, value in headers if name not in _NOT_STORED]
            message = {**message, "headers": [*headers, *added]}
        elif message["type"] == "http.response.body" and self._length >= 0:
            self._chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                body = b"".join(self._chunks)
                self.body = body if len(body) == self._length else None
        await self._send(message)

    def _storable_length(self, status: int, headers: list[Header]) -> int:
        """The Content-Length of a response that may be stored, else -1."""
        if not self._store or status != 200:
            return -1
        names = {name for name, _ in headers}
        values = dict(headers)
        if b"set-cookie" in names or b"vary" in names:
            return -1
        if values.get(b"content-type", b"").lower().startswith(b"application/x-ndjson"):
            return -1
        if _directives([v for n, v in headers if n == b"cache-control"]) & _UNCACHEABLE_DIRECTIVES:
            return -1
        length = values.get(b"content-length", b"")
        return int(length) if length.isdigit() and int(length) <= self._max_bytes else -1
