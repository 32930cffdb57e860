"""Calling a dependency's REST API: the baseline's twin of ``runtime.channels``.

One aiohttp session per dependency with a pooled keep-alive connector (or, when asked,
a new TCP connection for every request), orjson bodies, and the same discipline as the
gRPC channels: every call gets the inbound call's remaining time minus a margin (sent
as ``x-request-timeout-ms`` so the next hop enforces it too), carries the request and
operation ids, is retried at most 3 times with jittered backoff when the request never
reached a handler (connection refused or dropped, 503), and fails as a DomainError.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from meshkit.errors import DeadlineExceeded, DomainError, Internal, Unavailable
from meshkit.runtime.config import RestClientConfig
from meshkit.runtime.deadlines import current_scope, outbound_timeout
from meshkit.runtime.rest.app import OPERATION_ID_HEADER, REQUEST_ID_HEADER, TIMEOUT_HEADER
from meshkit.runtime.rest.errors import error_from_document

MAX_ATTEMPTS = 3
INITIAL_BACKOFF_S = 0.05
MAX_BACKOFF_S = 0.5
KEEPALIVE_S = 60.0
"""Idle pooled connections are closed after this: well under the 300 s idle timeout of
Service Connect's Envoy and VPC Lattice (the gRPC channels ping at the same interval)."""

_HEADERS = {"content-type": "application/json", "accept": "application/json"}
_REQUEST_ID = REQUEST_ID_HEADER.decode()
_OPERATION_ID = OPERATION_ID_HEADER.decode()
_TIMEOUT = TIMEOUT_HEADER.decode()
# The request never reached a handler (or the server said it is going away): safe to
# send again. Every mutating call of the mesh carries an idempotency key as well.
_RETRYABLE = (aiohttp.ClientConnectionError, ConnectionError)


def open_session(config: RestClientConfig) -> aiohttp.ClientSession:
    """A session whose connector pools keep-alive connections (or never reuses one)."""
    connector = aiohttp.TCPConnector(
        limit=config.pool_size,
        force_close=config.new_connection_per_request,
        keepalive_timeout=None if config.new_connection_per_request else KEEPALIVE_S,
    )
    return aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,
        timeout=aiohttp.ClientTimeout(total=None),  # each call has its own deadline
        skip_auto_headers=("Accept-Encoding", "User-Agent"),
    )


class RestClient:
    """JSON calls to one dependency at ``base_url`` (``http://host:port``)."""

    def __init__(
        self,
        base_url: str,
        session: aiohttp.ClientSession,
        *,
        default_deadline_s: float,
        margin_s: float,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._session = session
        self._default_deadline_s = default_deadline_s
        self._margin_s = margin_s

    async def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The JSON object the dependency answered; any failure is a DomainError."""
        timeout = outbound_timeout(self._default_deadline_s, self._margin_s)
        sent = dict(_HEADERS)
        scope = current_scope()
        if scope is not None:
            if scope.request_id:
                sent[_REQUEST_ID] = scope.request_id
            if scope.operation_id:
                sent[_OPERATION_ID] = scope.operation_id
        if headers:
            sent.update(headers)
        data = orjson.dumps(body) if body is not None else None
        url = self._base_url + path
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        backoff = INITIAL_BACKOFF_S
        for attempt in range(1, MAX_ATTEMPTS + 1):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            sent[_TIMEOUT] = str(max(1, int(remaining * 1000)))
            try:
                async with asyncio.timeout(remaining):
                    status, payload = await self._send(method, url, data, sent, params)
            except TimeoutError:
                break
            except _RETRYABLE as exc:
                failure: DomainError = _unavailable(method, path, exc)
            except aiohttp.ClientError as exc:  # a broken reply: it may have been served
                raise _unavailable(method, path, exc) from None
            else:
                if status < 400:
                    return _object(payload, path)
                failure = error_from_document(status, _json_or_none(payload))
                if status != 503:
                    raise failure
            if attempt == MAX_ATTEMPTS:
                raise failure
            await asyncio.sleep(min(random.uniform(0, backoff), max(0.0, deadline - loop.time())))
            backoff = min(backoff * 2, MAX_BACKOFF_S)
        raise DeadlineExceeded(
            message=f"{method} {path}: deadline exceeded", reason="DEADLINE_EXCEEDED"
        )

    async def _send(
        self,
        method: str,
        url: str,
        data: bytes | None,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None,
    ) -> tuple[int, bytes]:
        async with self._session.request(
            method, url, data=data, headers=headers, params=params
        ) as response:
            return response.status, await response.read()


def _unavailable(method: str, path: str, exc: Exception) -> Unavailable:
    return Unavailable(
        message=f"{method} {path}: {type(exc).__name__}: {exc}", reason="UNAVAILABLE"
    )


def _json_or_none(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None


def _object(payload: bytes, path: str) -> dict[str, Any]:
    document = _json_or_none(payload)
    if not isinstance(document, dict):
        raise Internal(
            message=f"{path}: the reply is not a JSON object", reason="BAD_DOWNSTREAM_REPLY"
        )
    return document
