"""The Go inventory service answers every RPC as the Python one does: one sequence of
calls (reservations, idempotent replays, reused keys, reservations read back, releases,
batches, bidi streams, whole-note restocks, hostile input) runs against both
implementations as real processes on fresh data, and every reply and status must be
identical (creation times aside)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from shopmesh.inventory.v1 import inventory_pb2, inventory_pb2_grpc

from meshkit.manifest import GO, PYTHON
from tests.integration.implementations import (
    IMPLEMENTATIONS,
    Outcome,
    failure_outcome,
    reply_outcome,
    running_service,
    unary_outcome,
)

pytestmark = pytest.mark.slow
TIMEOUT_S = 10.0

Line = inventory_pb2.ReserveStreamRequest
Delivery = inventory_pb2.RestockRequest


def _without_times(value: Any) -> Any:
    """``value`` with every createTime replaced by whether it was set (times differ)."""
    if isinstance(value, dict):
        return {k: bool(v) if k == "createTime" else _without_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_times(item) for item in value]
    return value


def _lines(*items: tuple[str, str, int]) -> list[Line]:
    return [Line(reservation_key=key, sku=sku, quantity=qty) for key, sku, qty in items]


def _deliveries(*items: tuple[str, int]) -> list[Delivery]:
    return [Delivery(sku=sku, quantity=qty) for sku, qty in items]


async def _stream_outcome(call: Any) -> Outcome:
    """Every reply of a stream, then its final code (and status when it failed)."""
    replies: list[Outcome] = []
    try:
        replies.extend([reply_outcome(reply) async for reply in call])
        return {"replies": replies, "code": "OK"}
    except grpc.aio.AioRpcError as error:
        return {"replies": replies, **failure_outcome(error)}


def _calls(stub: Any) -> Iterator[tuple[str, Callable[[], Awaitable[Outcome]]]]:
    """The sequence: each step may depend on the state the previous ones left."""
    t = TIMEOUT_S

    def unary(method: Any, request: Any) -> Callable[[], Awaitable[Outcome]]:
        return lambda: unary_outcome(method(request, timeout=t))

    def stream(method: Any, requests: list[Any]) -> Callable[[], Awaitable[Outcome]]:
        return lambda: _stream_outcome(method(iter(requests), timeout=t))

    def client_stream(method: Any, requests: list[Any]) -> Callable[[], Awaitable[Outcome]]:
        return lambda: unary_outcome(method(iter(requests), timeout=t))

    yield "stock", unary(stub.GetStock, inventory_pb2.GetStockRequest(sku="SKU-00001"))
    yield "stock unknown", unary(stub.GetStock, inventory_pb2.GetStockRequest(sku="SKU-99999"))
    yield "stock malformed", unary(stub.GetStock, inventory_pb2.GetStockRequest(sku="x"))
    reserve = inventory_pb2.ReserveRequest
    yield "reserve", unary(stub.Reserve, reserve(reservation_key="k1", sku="SKU-00001", quantity=3))
    yield (
        "reserve replay",
        unary(stub.Reserve, reserve(reservation_key="k1", sku="SKU-00001", quantity=3)),
    )
    yield (
        "reserve reused key",
        unary(stub.Reserve, reserve(reservation_key="k1", sku="SKU-00001", quantity=4)),
    )
    yield (
        "reserve too many",
        unary(stub.Reserve, reserve(reservation_key="k2", sku="SKU-00001", quantity=10_000)),
    )
    yield (
        "reserve unknown sku",
        unary(stub.Reserve, reserve(reservation_key="k3", sku="SKU-99999", quantity=1)),
    )
    yield (
        "reserve every bad field",
        unary(stub.Reserve, reserve(reservation_key="", sku="bad", quantity=0)),
    )
    yield (
        "reserve absurd quantity",
        unary(stub.Reserve, reserve(reservation_key="k4", sku="SKU-00002", quantity=-(2**31))),
    )
    yield (
        "reserve long key",
        unary(stub.Reserve, reserve(reservation_key="k" * 201, sku="SKU-00002", quantity=1)),
    )
    yield (
        "reserve unprintable key",
        unary(stub.Reserve, reserve(reservation_key="k\x00\u200b", sku="SKU-00002", quantity=1)),
    )
    yield "stock after", unary(stub.GetStock, inventory_pb2.GetStockRequest(sku="SKU-00001"))
    lookup = inventory_pb2.GetReservationRequest
    yield "get held", unary(stub.GetReservation, lookup(reservation_key="k1"))
    release = inventory_pb2.ReleaseRequest
    yield "release", unary(stub.Release, release(reservation_key="k1"))
    yield "release again", unary(stub.Release, release(reservation_key="k1"))
    yield "get released", unary(stub.GetReservation, lookup(reservation_key="k1"))
    yield "get unknown", unary(stub.GetReservation, lookup(reservation_key="ord_x/0 'q'"))
    yield "get no key", unary(stub.GetReservation, lookup())
    yield "get long key", unary(stub.GetReservation, lookup(reservation_key="k" * 201))
    yield "get unprintable key", unary(stub.GetReservation, lookup(reservation_key="k\x00"))
    yield (
        "reserve after release",
        unary(stub.Reserve, reserve(reservation_key="k1", sku="SKU-00001", quantity=3)),
    )
    yield "release unknown", unary(stub.Release, release(reservation_key="nope 'x'"))
    yield "release no key", unary(stub.Release, release())
    batch = inventory_pb2.BatchReserveRequest
    mixed = _lines(
        ("b1", "SKU-00003", 2),
        ("b2", "SKU-00003", 100_000),
        ("b1", "SKU-00003", 5),
        ("b3", "SKU-00004", 1),
        ("", "", 0),
    )
    yield "batch", unary(stub.BatchReserve, batch(reservations=mixed))
    yield "batch replay", unary(stub.BatchReserve, batch(reservations=mixed))
    yield "batch empty", unary(stub.BatchReserve, batch())
    yield (
        "batch over limit",
        unary(
            stub.BatchReserve,
            batch(reservations=_lines(*[(f"o{n}", "SKU-00005", 1) for n in range(1001)])),
        ),
    )
    yield (
        "stream",
        stream(
            stub.ReserveStream,
            _lines(
                ("s1", "SKU-00006", 1),
                ("s2", "bad", 1),
                ("s1", "SKU-00006", 2),
                ("s3", "SKU-00007", 999_999),
                ("s4", "SKU-00006", 4),
            ),
        ),
    )
    yield "stream empty", stream(stub.ReserveStream, [])
    yield (
        "restock",
        client_stream(
            stub.Restock, _deliveries(("SKU-00008", 5), ("SKU-00009", 7), ("SKU-00008", 1))
        ),
    )
    yield (
        "restock bad lines",
        client_stream(
            stub.Restock, _deliveries(("SKU-00008", 5), ("bad", 0), ("SKU-00009", 1_000_001))
        ),
    )
    yield (
        "restock unknown sku",
        client_stream(stub.Restock, _deliveries(("SKU-00008", 5), ("SKU-99999", 1))),
    )
    yield "restock empty", client_stream(stub.Restock, [])
    yield (
        "restock over limit",
        client_stream(stub.Restock, _deliveries(*[("SKU-00010", 1)] * 10_001)),
    )
    for sku in ("SKU-00003", "SKU-00004", "SKU-00006", "SKU-00008", "SKU-00009", "SKU-00010"):
        yield f"stock {sku}", unary(stub.GetStock, inventory_pb2.GetStockRequest(sku=sku))


async def _answers(address: str) -> dict[str, Outcome]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        return {name: _without_times(await call()) for name, call in _calls(stub)}


async def _both(tmp_path: Path) -> dict[str, dict[str, Outcome]]:
    found = {}
    for impl in IMPLEMENTATIONS:
        async with running_service("inventory", impl, tmp_path / impl) as running:
            found[impl] = await _answers(running.address)
    return found


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Outcome]]:
    """Every step's answer from each implementation, each on fresh data."""
    return asyncio.run(_both(tmp_path_factory.mktemp("inventory")))


class _Unused:
    """Stands in for a stub to list the steps' names (no call is made)."""

    def __getattr__(self, name: str) -> None:
        return None


CASES = [name for name, _ in _calls(_Unused())]


@pytest.mark.parametrize("case", CASES)
def test_go_inventory_answers_as_python_does(
    answers: dict[str, dict[str, Outcome]], case: str
) -> None:
    """The Go server's reply or status for the step is the Python server's, state included."""
    assert answers[GO][case] == answers[PYTHON][case]


def test_sequence_covers_every_outcome(answers: dict[str, dict[str, Outcome]]) -> None:
    """The compared answers hold reservations and each error reason, so equality is not
    between two empty or uniform results."""
    python = answers[PYTHON]
    text = repr(python)
    for reason in (
        "IDEMPOTENCY_KEY_REUSED",
        "INSUFFICIENT_STOCK",
        "PRODUCT_NOT_FOUND",
        "RESERVATION_NOT_FOUND",
        "INVALID_ARGUMENT",
    ):
        assert reason in text, reason
    assert python["reserve"]["reply"]["reservation"]["state"] == "RESERVATION_STATE_HELD"  # type: ignore[index]
    assert python["release"]["reply"]["reservation"]["state"] == "RESERVATION_STATE_RELEASED"  # type: ignore[index]
    assert python["get held"]["reply"]["reservation"]["state"] == "RESERVATION_STATE_HELD"  # type: ignore[index]
    assert python["get released"]["reply"]["reservation"]["state"] == "RESERVATION_STATE_RELEASED"  # type: ignore[index]
    assert python["get unknown"]["code"] == "NOT_FOUND"
    assert python["restock bad lines"]["code"] == "INVALID_ARGUMENT"
    assert python["restock over limit"]["code"] == "INVALID_ARGUMENT"
    assert len(python["stream"]["replies"]) == 5  # type: ignore[arg-type]
