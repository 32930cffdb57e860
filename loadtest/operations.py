"""One business operation per scenario and arm, as the loader sends it.

Every arm does the same business work: a lookup returns the product asked for, a
checkout confirms an order of N distinct products, a quote prices N lines; a reply that
says otherwise is a failure ("bad reply"), so no arm can look fast by doing less.
Operations numbered below ``TAG_LIMIT`` carry an ``x-operation-id``, so every hop counts
their calls under it (the chattiness sample).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from shopmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from shopmesh.orders.v1 import orders_pb2, orders_pb2_grpc
from shopmesh.pricing.v1 import pricing_pb2, pricing_pb2_grpc

from loadtest.arms import Arm, kind_of
from loadtest.clients import OPERATION_ID, REQUEST_TIMEOUT_S, GrpcChannels, HttpClient, classify
from loadtest.schedule import Operation, Outcome
from loadtest.targets import Targets

TAG_LIMIT = 2000
"""Operations tagged for per-hop counting: well under what each hop remembers (10,000)."""
PRODUCT_COUNT = 300
REGION = "DE"
TOKEN = "tok_visa"  # noqa: S105 - the simulated processor's test card, not a secret
ACTIVE_PRODUCTS = [n for n in range(1, PRODUCT_COUNT + 1) if n % 50]  # every 50th is inactive

OK = Outcome(True)


def skus_for(number: int, items: int) -> list[str]:
    """``items`` distinct active SKUs, rotating so consecutive orders spread the stock."""
    start = number * items
    return [f"SKU-{ACTIVE_PRODUCTS[(start + i) % len(ACTIVE_PRODUCTS)]:05d}" for i in range(items)]


def _bad(reason: str = "bad reply") -> Outcome:
    return Outcome(False, reason)


async def _guarded(work: Awaitable[Outcome]) -> Outcome:
    try:
        return await work
    except Exception as exc:
        return Outcome(False, classify(exc))


class Shop:
    """Builds each arm's operations over the loader's connections to ``targets``."""

    def __init__(
        self, targets: Targets, channels: GrpcChannels, pooled: HttpClient, fresh: HttpClient
    ):
        self._targets = targets
        self._channels = channels
        self._pooled = pooled
        self._fresh = fresh

    def operation(self, scenario: str, arm: Arm, items: int, tag: str) -> Operation:
        builders: dict[str, Callable[[], Callable[[int, dict[str, str]], Awaitable[Outcome]]]] = {
            "lookup": lambda: self._lookup(arm),
            "checkout": lambda: self._checkout(arm, items, tag),
            "quote-stream": lambda: self._quote(arm, items),
        }
        needed = ("lookup", "quote-stream", "checkout") if scenario == "mix" else (scenario,)
        kinds = {kind: builders[kind]() for kind in needed}

        async def run(number: int) -> Outcome:
            ids = {OPERATION_ID: f"{tag}-{number}"} if number < TAG_LIMIT else {}
            return await _guarded(kinds[kind_of(scenario, number)](number, ids))

        return run

    # lookup ---------------------------------------------------------------------------

    def _lookup(self, arm: Arm) -> Callable[[int, dict[str, str]], Awaitable[Outcome]]:
        if arm.protocol == "grpc":
            stub = catalog_pb2_grpc.CatalogServiceStub(
                self._channels[self._targets.grpc["catalog"]]
            )

            async def grpc_lookup(number: int, ids: dict[str, str]) -> Outcome:
                sku = skus_for(number, 1)[0]
                reply = await stub.GetProduct(
                    catalog_pb2.GetProductRequest(sku=sku),
                    timeout=REQUEST_TIMEOUT_S,
                    metadata=tuple(ids.items()),
                )
                return OK if reply.product.sku == sku else _bad()

            return grpc_lookup
        http, base, wrapped = self._http(arm, "catalog")

        async def http_lookup(number: int, ids: dict[str, str]) -> Outcome:
            sku = skus_for(number, 1)[0]
            status, body = await http.request("GET", f"{base}/v1/products/{sku}", headers=ids)
            if status != 200:
                return _bad(f"http {status}")
            product = body.get("product") if wrapped else body
            return OK if product and product.get("sku") == sku else _bad()

        return http_lookup

    # checkout -------------------------------------------------------------------------

    def _checkout(
        self, arm: Arm, items: int, tag: str
    ) -> Callable[[int, dict[str, str]], Awaitable[Outcome]]:
        if arm.protocol == "grpc":
            channel = self._channels[self._targets.grpc[arm.orders]]
            stub = orders_pb2_grpc.OrdersServiceStub(channel)

            async def grpc_checkout(number: int, ids: dict[str, str]) -> Outcome:
                request = orders_pb2.PlaceOrderRequest(
                    idempotency_key=f"{tag}-{number}",
                    customer_id="loadtest",
                    items=[
                        orders_pb2.OrderItem(sku=s, quantity=1) for s in skus_for(number, items)
                    ],
                    region=REGION,
                    payment_token=TOKEN,
                )
                reply = await stub.PlaceOrder(
                    request, timeout=REQUEST_TIMEOUT_S, metadata=tuple(ids.items())
                )
                order = reply.order
                confirmed = order.state == orders_pb2.ORDER_STATE_CONFIRMED
                return OK if confirmed and len(order.lines) == items else _bad()

            return grpc_checkout
        http, base, wrapped = self._http(arm, arm.orders if arm.protocol == "rest" else "orders")

        async def http_checkout(number: int, ids: dict[str, str]) -> Outcome:
            key = f"{tag}-{number}"
            body: dict[str, Any] = {
                "customerId": "loadtest",
                "items": [{"sku": s, "quantity": 1} for s in skus_for(number, items)],
                "region": REGION,
                "paymentToken": TOKEN,
            }
            headers = dict(ids)
            if wrapped:
                body["idempotencyKey"] = key
            else:
                headers["idempotency-key"] = key
            status, reply = await http.request("POST", f"{base}/v1/orders", body, headers)
            if status != 200:
                return _bad(f"http {status}")
            order = reply.get("order") if wrapped else reply
            if not order:
                return _bad()
            confirmed = order.get("state") in {"CONFIRMED", "ORDER_STATE_CONFIRMED"}
            return OK if confirmed and len(order.get("lines", ())) == items else _bad()

        return http_checkout

    # quotes ---------------------------------------------------------------------------

    def _quote(self, arm: Arm, items: int) -> Callable[[int, dict[str, str]], Awaitable[Outcome]]:
        if arm.protocol == "grpc":
            stub = pricing_pb2_grpc.PricingServiceStub(
                self._channels[self._targets.grpc["pricing"]]
            )
            if arm.per_item:

                async def grpc_quote_each(number: int, ids: dict[str, str]) -> Outcome:
                    async def one(sku: str) -> float:
                        started = time.perf_counter()
                        request = pricing_pb2.QuoteRequest(
                            items=[pricing_pb2.QuoteItem(sku=sku, quantity=1)], region=REGION
                        )
                        reply = await stub.Quote(
                            request, timeout=REQUEST_TIMEOUT_S, metadata=tuple(ids.items())
                        )
                        if len(reply.lines) != 1:
                            raise ValueError("bad reply")
                        return time.perf_counter() - started

                    latencies = await asyncio.gather(*(one(s) for s in skus_for(number, items)))
                    return Outcome(True, message_latencies_s=tuple(latencies))

                return grpc_quote_each

            if arm.shape == "batch":

                async def grpc_quote_batch(number: int, ids: dict[str, str]) -> Outcome:
                    request = pricing_pb2.QuoteRequest(
                        items=[
                            pricing_pb2.QuoteItem(sku=s, quantity=1)
                            for s in skus_for(number, items)
                        ],
                        region=REGION,
                    )
                    reply = await stub.Quote(
                        request, timeout=REQUEST_TIMEOUT_S, metadata=tuple(ids.items())
                    )
                    return OK if len(reply.lines) == items else _bad()

                return grpc_quote_batch

            async def grpc_quote_stream(number: int, ids: dict[str, str]) -> Outcome:
                return await _quote_stream(stub, skus_for(number, items), ids)

            return grpc_quote_stream
        http, base, _ = self._http(arm, "pricing")
        url = f"{base}/v1/quotes"
        if arm.per_item:

            async def http_quote_each(number: int, ids: dict[str, str]) -> Outcome:
                async def one(sku: str) -> float:
                    started = time.perf_counter()
                    body = {"items": [{"sku": sku, "quantity": 1}], "region": REGION}
                    status, reply = await http.request("POST", url, body, ids)
                    if status != 200 or len(reply.get("lines", ())) != 1:
                        raise ValueError(f"http {status}")
                    return time.perf_counter() - started

                latencies = await asyncio.gather(*(one(s) for s in skus_for(number, items)))
                return Outcome(True, message_latencies_s=tuple(latencies))

            return http_quote_each

        async def http_quote_batch(number: int, ids: dict[str, str]) -> Outcome:
            skus = skus_for(number, items)
            body = {"items": [{"sku": s, "quantity": 1} for s in skus], "region": REGION}
            status, reply = await http.request("POST", url, body, ids)
            if status != 200:
                return _bad(f"http {status}")
            return OK if len(reply.get("lines", ())) == items else _bad()

        return http_quote_batch

    def _http(self, arm: Arm, service: str) -> tuple[HttpClient, str, bool]:
        """The client, base URL and whether replies are wrapped (the gateway's messages)."""
        http = self._fresh if arm.new_connection else self._pooled
        if arm.protocol == "gateway":
            if self._targets.gateway is None:
                raise ValueError("no gateway to send to")
            return http, self._targets.gateway, True
        return http, self._targets.rest[service], False


async def _quote_stream(
    stub: pricing_pb2_grpc.PricingServiceStub, skus: Sequence[str], ids: dict[str, str]
) -> Outcome:
    """One bidi stream: every line written, every answer read as it comes; each answer's
    latency runs from the write of its line."""
    # The generated stubs type calls as the sync API's; under grpc.aio a stream-stream call
    # with no request iterator is a StreamStreamCall we write to and read from.
    open_stream: Any = stub.QuoteStream
    call = open_stream(timeout=REQUEST_TIMEOUT_S, metadata=tuple(ids.items()))
    sent: dict[str, float] = {}
    latencies: list[float] = []

    async def read() -> None:
        async for reply in call:
            if reply.WhichOneof("result") != "quote":
                raise ValueError("bad reply")
            latencies.append(time.perf_counter() - sent[reply.line_id])

    reader = asyncio.create_task(read())
    try:
        for index, sku in enumerate(skus):
            line_id = str(index)
            sent[line_id] = time.perf_counter()
            await call.write(
                pricing_pb2.QuoteStreamRequest(
                    line_id=line_id,
                    item=pricing_pb2.QuoteItem(sku=sku, quantity=1),
                    region=REGION,
                )
            )
        await call.done_writing()
        await reader
    finally:
        reader.cancel()
    if len(latencies) != len(skus):
        return _bad()
    return Outcome(True, message_latencies_s=tuple(latencies))
