"""A TCP relay on 127.0.0.1 in front of one dependency, whose link can go bad on demand.

Orders reaches each dependency through one (``extra_env`` points its address here), so
the chaos suite can degrade a single link, both ways, while connections are open:

- ``slow(s)``: every chunk is delivered ``s`` seconds after it arrived, in order (a link
  with latency, not one that serialises: chunks in flight overlap);
- ``hang()``: nothing is delivered and nothing is refused; what arrives is held and
  delivered after ``heal()`` (a peer that stops answering, or a partition TCP rides out);
- ``hang_replies()``: the same one way only: requests reach the dependency, its replies
  are held (a one-way partition: the work is done, the caller never hears of it);
- ``cut()``: every open connection is reset and new ones are reset as soon as they are
  accepted (a network cut: callers fail fast);
- ``heal()``: a normal link again.

Protocol-blind, so it serves the gRPC mesh (HTTP/2) and the REST baseline (HTTP/1.1) alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

HOST = "127.0.0.1"
CHUNK_BYTES = 64 * 1024
CONNECT_TIMEOUT_S = 2.0

NORMAL, SLOW, HUNG, ONE_WAY, CUT = "normal", "slow", "hung", "replies hung", "cut"


@dataclass
class RelayStats:
    connections: int = 0
    """Connections accepted since the relay started."""
    resets: int = 0
    """Connections it reset (cut, or the target unreachable)."""


class Relay:
    """Forwards connections from its own port to ``target_port`` on 127.0.0.1."""

    def __init__(self, name: str, target_port: int) -> None:
        self.name = name
        self.target_port = target_port
        self.mode = NORMAL
        self.stats = RelayStats()
        self._delay_s = 0.0
        self._requests_flow = asyncio.Event()
        self._replies_flow = asyncio.Event()
        self._requests_flow.set()
        self._replies_flow.set()
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, HOST, 0, limit=CHUNK_BYTES)

    async def close(self) -> None:
        """Stops listening and resets whatever is still open."""
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            link.reset()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def slow(self, delay_s: float) -> None:
        self.heal()
        self.mode, self._delay_s = SLOW, delay_s

    def hang(self) -> None:
        self.heal()
        self.mode = HUNG
        self._requests_flow.clear()
        self._replies_flow.clear()

    def hang_replies(self) -> None:
        self.heal()
        self.mode = ONE_WAY
        self._replies_flow.clear()

    def cut(self) -> None:
        self.heal()
        self.mode = CUT
        for link in list(self._links):
            link.reset()
            self.stats.resets += 1

    def heal(self) -> None:
        self.mode, self._delay_s = NORMAL, 0.0
        self._requests_flow.set()
        self._replies_flow.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        if self.mode == CUT:
            _reset(writer)
            self.stats.resets += 1
            return
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                upstream = await asyncio.open_connection(HOST, self.target_port, limit=CHUNK_BYTES)
        except (OSError, TimeoutError):
            _reset(writer)  # as the caller would see the dependency itself: refused
            self.stats.resets += 1
            return
        link = _Link(writer, upstream[1])
        self._links.add(link)
        pumps = [
            self._spawn(self._pump(reader, upstream[1], link, self._requests_flow)),
            self._spawn(self._pump(upstream[0], writer, link, self._replies_flow)),
        ]
        try:
            await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            self._links.discard(link)
            link.close()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        link: _Link,
        flowing: asyncio.Event,
    ) -> None:
        """Copies one direction: each chunk waits for the link to flow and for its delay
        (counted from its arrival, so chunks overlap), then is written in order."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        writer = self._spawn(self._deliver(queue, sink, link, flowing))
        try:
            while chunk := await source.read(CHUNK_BYTES):
                queue.put_nowait((loop.time() + self._delay_s, chunk))
        except (ConnectionError, OSError):
            link.reset()
        finally:
            queue.put_nowait((0.0, b""))  # end of this direction, after what is queued
            await asyncio.gather(writer, return_exceptions=True)

    async def _deliver(
        self,
        queue: asyncio.Queue[tuple[float, bytes]],
        sink: asyncio.StreamWriter,
        link: _Link,
        flowing: asyncio.Event,
    ) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, chunk = await queue.get()
            if not chunk:
                with contextlib.suppress(OSError, RuntimeError):
                    if sink.can_write_eof():
                        sink.write_eof()
                return
            await flowing.wait()
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            if link.broken:
                return
            try:
                sink.write(chunk)
                await sink.drain()
            except (ConnectionError, OSError):
                link.reset()
                return


class _Link:
    """The two sockets of one relayed connection."""

    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream = upstream
        self.broken = False

    def reset(self) -> None:
        """Both sides get a TCP reset now (what a cut looks like to each end)."""
        self.broken = True
        _reset(self.client)
        _reset(self.upstream)

    def close(self) -> None:
        for writer in (self.client, self.upstream):
            writer.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Closes with RST rather than FIN: SO_LINGER on, zero seconds, then abort."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
