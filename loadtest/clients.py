"""The loader's own connections: gRPC channels and aiohttp sessions, one per target.

No client retries (a failure is a measurement), a deadline on every request, TLS and an
authority override for deployed meshes. ``classify`` turns any failure into the status
word the reports count errors by.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import orjson

from loadtest.targets import Targets

REQUEST_TIMEOUT_S = 10.0
OPERATION_ID = "x-operation-id"


class GrpcChannels:
    """One channel (one HTTP/2 connection) per target address, opened on first use."""

    def __init__(self, targets: Targets) -> None:
        self._targets = targets
        self._channels: dict[str, grpc.aio.Channel] = {}

    def __getitem__(self, address: str) -> grpc.aio.Channel:
        channel = self._channels.get(address)
        if channel is None:
            channel = self._channels[address] = self._open(address)
        return channel

    def _open(self, address: str) -> grpc.aio.Channel:
        options: list[tuple[str, Any]] = [("grpc.enable_retries", 0)]
        if self._targets.authority:
            options.append(("grpc.default_authority", self._targets.authority))
        if not self._targets.tls:
            return grpc.aio.insecure_channel(address, options=options)
        roots = Path(self._targets.ca_file).read_bytes() if self._targets.ca_file else None
        if self._targets.authority:
            options.append(("grpc.ssl_target_name_override", self._targets.authority))
        credentials = grpc.ssl_channel_credentials(root_certificates=roots)
        return grpc.aio.secure_channel(address, credentials, options=options)

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()


class HttpClient:
    """An aiohttp session: a keep-alive pool, or a new connection for every request."""

    def __init__(self, targets: Targets, *, new_connection: bool) -> None:
        context: ssl.SSLContext | bool = False
        if targets.tls:
            context = ssl.create_default_context(
                cafile=str(targets.ca_file) if targets.ca_file else None
            )
        connector = aiohttp.TCPConnector(limit=0, force_close=new_connection, ssl=context)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            auto_decompress=False,
            skip_auto_headers=("Accept-Encoding", "User-Agent"),
        )
        self._host = {"host": targets.authority} if targets.authority else {}
        self._server_name = targets.authority

    async def request(
        self,
        method: str,
        url: str,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, Any]:
        """(HTTP status, parsed JSON body or None)."""
        sent = {**self._host, **(headers or {})}
        data = None
        if body is not None:
            data = orjson.dumps(body)
            sent["content-type"] = "application/json"
        async with self._session.request(
            method, url, data=data, headers=sent, server_hostname=self._server_name
        ) as reply:
            raw = await reply.read()
        try:
            return reply.status, orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return reply.status, None

    async def close(self) -> None:
        await self._session.close()


def classify(error: BaseException) -> str:
    """The status word of a failure: "grpc CODE", "timeout", "connection", ..."""
    if isinstance(error, grpc.aio.AioRpcError):
        return f"grpc {error.code().name}"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, aiohttp.ClientConnectionError | ConnectionError):
        return "connection"
    return f"exception {type(error).__name__}"
