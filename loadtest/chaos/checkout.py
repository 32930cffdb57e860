"""PlaceOrder as the chaos load sends it, over gRPC or REST, with the answer's identity.

Unlike the load test's checkout (which only counts), every answer here names the order it
was about, so the invariants can hold each idempotency key to one order: the reply's
order, or the ``order_id`` a failure carries in its ErrorInfo metadata. The customer id
is the idempotency key, so the event log's CREATED events (whose detail is the customer)
say which key created which order. Failures are named by status code, plus the domain
reason when it says more (``ABORTED SAGA_INTERRUPTED``), the same words for both
transports; a declined card (the load declines one order in ten on purpose) is
``declined``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import grpc
import orjson
from shopmesh.orders.v1 import orders_pb2, orders_pb2_grpc

from meshkit.http_status import GrpcCode
from meshkit.runtime.error_mapping import error_from_rpc
from meshkit.runtime.rest.errors import error_from_document

REGION = "DE"
GOOD_CARD = "tok_visa"  # the simulated processor's test cards
DECLINED_CARD = "tok_decline"
CONFIRMED, DECLINED = "confirmed", "declined"
DECLINE_REASON = "PAYMENT_DECLINED"
UNAVAILABLE = "UNAVAILABLE"
DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
SETTLED = frozenset({CONFIRMED, DECLINED})
"""Outcomes that are the business answering (a confirmed order, or the declined card it
was asked to decline): anything else is a failure the fault caused."""

# The loader's own channel must not hide the mesh's recovery behind its reconnect backoff
# (grpc's default starts at 1 s): retry the connection promptly, never retry a call.
_CHANNEL_OPTIONS = (
    ("grpc.enable_retries", 0),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
)


@dataclass(frozen=True)
class Answer:
    outcome: str
    """``confirmed``, ``declined``, or the failure: ``UNAVAILABLE``, ``ABORTED
    SAGA_INTERRUPTED``, ..."""
    order_id: str = ""
    """The order the answer named, if it named one."""


class Checkout(Protocol):
    async def place(
        self, key: str, items: Sequence[tuple[str, int]], card: str, deadline_s: float
    ) -> Answer:
        """One PlaceOrder with the idempotency key (also the customer id)."""

    async def close(self) -> None: ...


def _failure(code: str, reason: str, order_id: str) -> Answer:
    if reason == DECLINE_REASON:
        return Answer(DECLINED, order_id)
    words = code if reason in ("", code) else f"{code} {reason}"
    return Answer(words, order_id)


class GrpcCheckout:
    """PlaceOrder on the orders service's gRPC port."""

    def __init__(self, address: str) -> None:
        self._channel = grpc.aio.insecure_channel(address, options=_CHANNEL_OPTIONS)
        self._stub = orders_pb2_grpc.OrdersServiceStub(self._channel)

    async def place(
        self, key: str, items: Sequence[tuple[str, int]], card: str, deadline_s: float
    ) -> Answer:
        request = orders_pb2.PlaceOrderRequest(
            idempotency_key=key,
            customer_id=key,
            items=[orders_pb2.OrderItem(sku=sku, quantity=qty) for sku, qty in items],
            region=REGION,
            payment_token=card,
        )
        try:
            reply = await self._stub.PlaceOrder(request, timeout=deadline_s)
        except grpc.aio.AioRpcError as exc:
            error = error_from_rpc(exc)
            return _failure(exc.code().name, error.reason, error.metadata.get("order_id", ""))
        order = reply.order
        if order.state != orders_pb2.ORDER_STATE_CONFIRMED or len(order.lines) != len(items):
            return Answer("bad reply", order.order_id)
        return Answer(CONFIRMED, order.order_id)

    async def close(self) -> None:
        await self._channel.close()


class RestCheckout:
    """``POST /v1/orders`` on the orders service's REST baseline, keyed by header, with
    the deadline in ``x-request-timeout-ms`` as the mesh's own REST clients send it."""

    def __init__(self, base_url: str) -> None:
        self._url = base_url + "/v1/orders"
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def place(
        self, key: str, items: Sequence[tuple[str, int]], card: str, deadline_s: float
    ) -> Answer:
        body = {
            "customerId": key,
            "items": [{"sku": sku, "quantity": qty} for sku, qty in items],
            "region": REGION,
            "paymentToken": card,
        }
        headers = {
            "content-type": "application/json",
            "idempotency-key": key,
            "x-request-timeout-ms": str(int(deadline_s * 1000)),
        }
        try:
            async with (
                asyncio.timeout(deadline_s),
                self._session.post(self._url, data=orjson.dumps(body), headers=headers) as reply,
            ):
                status, raw = reply.status, await reply.read()
        except TimeoutError:
            return Answer(DEADLINE_EXCEEDED)  # as a gRPC client's own deadline reads
        except (aiohttp.ClientError, OSError):
            return Answer(UNAVAILABLE)  # refused or reset: what gRPC calls UNAVAILABLE
        document = _json(raw)
        if status != 200:
            error = error_from_document(status, document)
            code = document.get("code") if isinstance(document, dict) else None
            name = GrpcCode(code).name if isinstance(code, int) and code in _CODES else f"{status}"
            return _failure(name, error.reason, error.metadata.get("order_id", ""))
        if not isinstance(document, dict):
            return Answer("bad reply")
        order_id = str(document.get("orderId", ""))
        lines = document.get("lines", ())
        if document.get("state") != "CONFIRMED" or len(lines) != len(items):
            return Answer("bad reply", order_id)
        return Answer(CONFIRMED, order_id)

    async def close(self) -> None:
        await self._session.close()


_CODES = {code.value for code in GrpcCode}


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None
