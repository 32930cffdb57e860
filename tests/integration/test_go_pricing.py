"""The Go pricing service answers every RPC as the Python one does: the same cases,
good and hostile, run against both implementations as real processes, and the replies,
status codes, messages, reasons and field violations must be identical."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import grpc
import pytest
from shopmesh.pricing.v1 import pricing_pb2, pricing_pb2_grpc

from meshkit.manifest import GO, PYTHON
from tests.integration.implementations import (
    IMPLEMENTATIONS,
    failure_outcome,
    reply_outcome,
    running_service,
    unary_outcome,
)

pytestmark = pytest.mark.slow
TIMEOUT_S = 10.0
MAX_MESSAGE_BYTES = 64 * 1024

Item = pricing_pb2.QuoteItem


def _quote(
    items: Sequence[tuple[str, int]], region: str, promo: str = ""
) -> pricing_pb2.QuoteRequest:
    return pricing_pb2.QuoteRequest(
        items=[Item(sku=sku, quantity=qty) for sku, qty in items], region=region, promo_code=promo
    )


QUOTES = {
    "one line": _quote([("SKU-00001", 1)], "DE"),
    "stacked discounts": _quote([("SKU-00003", 12), ("SKU-00002", 5)], "US", "WELCOME10"),
    "most units": _quote([("SKU-00009", 10_000)], "NL", "SPRING5"),
    "no items": _quote([], "DE"),
    "too many items": _quote([("SKU-00001", 1)] * 1001, "DE"),
    "every bad field": _quote([("bad", 0), ("SKU-00001", 10_001), ("sku 'x'", -5)], "ZZ"),
    "absurd quantity": _quote([("SKU-00001", 2**31 - 1)], "DE"),
    "unknown region": _quote([("SKU-00001", 1)], "de"),
    "unknown promo": _quote([("SKU-00001", 1)], "DE", "FREE"),
    "unpriced sku": _quote([("SKU-99999", 1)], "DE"),
    "unicode digits": _quote([("SKU-\u0661\u0662\u0663\u0664\u0665", 1)], "DE"),
    "unprintable sku": _quote([("SKU\n\x00é", 1)], "DE"),
}

STREAM = [
    ("a", "SKU-00001", 2, "DE", ""),
    ("b", "SKU-00002", 0, "DE", ""),
    ("c", "SKU-00003", 10, "FR", "SPRING5"),
    ("d", "SKU-99999", 1, "DE", ""),
    ("e", "SKU-00004", 1, "XX", ""),
    ("f", "SKU-00005", 1, "JP", "NOPE"),
    ("", "", 0, "", ""),
]


async def _answers(address: str) -> dict[str, object]:
    """Every case against one server."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pricing_pb2_grpc.PricingServiceStub(channel)
        answers: dict[str, object] = {}
        for name, request in QUOTES.items():
            answers[name] = await unary_outcome(stub.Quote(request, timeout=TIMEOUT_S))
        requests = [
            pricing_pb2.QuoteStreamRequest(
                line_id=line, item=Item(sku=sku, quantity=qty), region=region, promo_code=promo
            )
            for line, sku, qty, region, promo in STREAM
        ]
        call = stub.QuoteStream(iter(requests), timeout=TIMEOUT_S)
        answers["stream"] = [reply_outcome(reply) async for reply in call]
        answers["stream status"] = (await call.code()).name
        # Hostile bytes: larger than the limit, not protobuf, not UTF-8 in a string field.
        # The text of these transport errors is each gRPC library's own: codes only.
        huge = _quote([("SKU-00001", 1)], "DE", "X" * MAX_MESSAGE_BYTES)
        answers["oversized"] = await unary_outcome(
            stub.Quote(huge, timeout=TIMEOUT_S), message=False
        )
        raw: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
            "/shopmesh.pricing.v1.PricingService/Quote"
        )
        for name, payload in (
            ("not protobuf", b"\xff\xff\xff"),
            ("bad utf-8", b"\x12\x02\xc3\x28"),
        ):
            try:
                await raw(payload, timeout=TIMEOUT_S)
                answers[name] = "accepted"
            except grpc.aio.AioRpcError as error:
                answers[name] = failure_outcome(error, message=False)
        unknown: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
            "/shopmesh.pricing.v1.PricingService/Nope"
        )
        try:
            await unknown(b"", timeout=TIMEOUT_S)
        except grpc.aio.AioRpcError as error:
            answers["unknown method"] = failure_outcome(error, message=False)
        return answers


async def _both(tmp_path: Path) -> dict[str, dict[str, object]]:
    found = {}
    for impl in IMPLEMENTATIONS:
        env = {"SHOPMESH_MAX_MESSAGE_BYTES": str(MAX_MESSAGE_BYTES)}
        async with running_service("pricing", impl, tmp_path / impl, env) as running:
            found[impl] = await _answers(running.address)
    return found


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """Every case's answer from each implementation (one process each, started in turn)."""
    return asyncio.run(_both(tmp_path_factory.mktemp("pricing")))


@pytest.mark.parametrize(
    "case",
    [
        *QUOTES,
        "stream",
        "stream status",
        "oversized",
        "unknown method",
    ],
)
async def test_go_pricing_answers_as_python_does(
    answers: dict[str, dict[str, object]], case: str
) -> None:
    """The Go server's reply or status (code, message, ErrorInfo, BadRequest, ResourceInfo)
    for the case is the Python server's."""
    assert answers[GO][case] == answers[PYTHON][case]


def test_cases_cover_every_outcome(answers: dict[str, dict[str, object]]) -> None:
    """The compared answers include quotes, each error reason and per-line stream errors, so
    equality is not between two empty results."""
    python = answers[PYTHON]
    assert "reply" in python["one line"]  # type: ignore[operator]
    reasons = set()
    for outcome in python.values():
        if isinstance(outcome, dict):
            for detail in outcome.get("details", []):
                reasons.add(detail.get("reason"))
    assert {
        "INVALID_ARGUMENT",
        "UNSUPPORTED_REGION",
        "UNKNOWN_PROMO_CODE",
        "PRODUCT_NOT_PRICED",
    } <= reasons
    stream = python["stream"]
    assert isinstance(stream, list)
    assert len(stream) == len(STREAM)
    assert [("quote" in s["reply"]) for s in stream] == [
        True,
        False,
        True,
        False,
        False,
        False,
        False,
    ]
    assert python["oversized"] == {"code": "RESOURCE_EXHAUSTED"}
    assert python["unknown method"] == {"code": "UNIMPLEMENTED"}


@pytest.mark.parametrize("case", ["not protobuf", "bad utf-8"])
def test_both_answer_undecodable_requests_with_internal(
    answers: dict[str, dict[str, object]], case: str
) -> None:
    """A request that is not protobuf, or holds invalid UTF-8 in a string, is INTERNAL on
    both servers, as the gRPC spec says (the Python boundary parses requests itself, so
    grpcio's UNKNOWN with the parser's exception text never reaches the caller)."""
    assert answers[GO][case] == answers[PYTHON][case] == {"code": "INTERNAL"}
