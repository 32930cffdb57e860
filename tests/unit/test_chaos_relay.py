"""The chaos relay on real sockets: it forwards both ways, and on demand delays, holds or
resets a link, then heals it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from loadtest.chaos.relay import Relay

TIMEOUT_S = 5.0


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
    writer.close()


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    """A relay in front of an echo server, both on 127.0.0.1."""
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    relay = Relay("echo", int(server.sockets[0].getsockname()[1]))
    await relay.start()
    yield relay
    await relay.close()
    server.close()
    await server.wait_closed()


async def _connect(relay: Relay) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", relay.port), TIMEOUT_S)


async def _round_trip(relay: Relay, payload: bytes = b"ping") -> bytes:
    reader, writer = await _connect(relay)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.readexactly(len(payload)), TIMEOUT_S)
    finally:
        writer.close()


async def test_a_normal_relay_forwards_both_ways(relay: Relay) -> None:
    """Bytes reach the target and its answer comes back unchanged."""
    assert await _round_trip(relay, b"hello relay") == b"hello relay"
    assert relay.stats.connections == 1


async def test_a_slow_link_delays_each_way_and_keeps_order(relay: Relay) -> None:
    """With 0.1 s each way a round trip takes at least 0.2 s; chunks arrive in order."""
    relay.slow(0.1)
    reader, writer = await _connect(relay)
    began = time.monotonic()
    for part in (b"a", b"b", b"c"):
        writer.write(part)
        await writer.drain()
    assert await asyncio.wait_for(reader.readexactly(3), TIMEOUT_S) == b"abc"
    assert time.monotonic() - began >= 0.2
    writer.close()


async def test_a_hung_link_holds_bytes_until_healed(relay: Relay) -> None:
    """While hung nothing comes back (the connection stays open); healed, what was held
    is delivered."""
    reader, writer = await _connect(relay)
    relay.hang()
    writer.write(b"held")
    await writer.drain()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.readexactly(4), 0.3)
    relay.heal()
    assert await asyncio.wait_for(reader.readexactly(4), TIMEOUT_S) == b"held"
    writer.close()


async def test_hung_replies_let_requests_through_and_hold_the_answers(relay: Relay) -> None:
    """One way only: the request reaches the target (its echo is produced) but the answer
    is held until the link heals."""
    received = asyncio.Event()

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read(4)
        received.set()
        writer.write(data)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(record, "127.0.0.1", 0)
    one_way = Relay("one-way", int(server.sockets[0].getsockname()[1]))
    await one_way.start()
    try:
        one_way.hang_replies()
        reader, writer = await _connect(one_way)
        writer.write(b"work")
        await writer.drain()
        await asyncio.wait_for(received.wait(), TIMEOUT_S)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.readexactly(4), 0.3)
        one_way.heal()
        assert await asyncio.wait_for(reader.readexactly(4), TIMEOUT_S) == b"work"
        writer.close()
    finally:
        await one_way.close()
        server.close()
        await server.wait_closed()


async def test_a_cut_resets_open_and_new_connections_until_healed(relay: Relay) -> None:
    """A cut resets a connection in use and every new one; after healing, it works."""
    reader, writer = await _connect(relay)
    writer.write(b"x")
    await writer.drain()
    assert await asyncio.wait_for(reader.readexactly(1), TIMEOUT_S) == b"x"

    relay.cut()

    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
        await asyncio.wait_for(reader.readexactly(1), TIMEOUT_S)
    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError, BrokenPipeError)):
        await _round_trip(relay)
    relay.heal()
    assert await _round_trip(relay) == b"ping"
    assert relay.stats.resets >= 2


async def test_a_target_that_is_down_is_a_reset_not_a_hang() -> None:
    """With nothing listening behind it, the relay resets the caller at once, as the
    dependency itself would refuse it."""
    relay = Relay("nothing", 1)  # port 1: nothing listens there
    await relay.start()
    try:
        with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError, BrokenPipeError)):
            await _round_trip(relay)
    finally:
        await relay.close()
