"""The shop as a customer sees it, over either transport, in transport-neutral terms.

``GrpcShop`` and ``RestShop`` answer the same questions (place an order, read stock,
events, charges) with plain values: an order as a ``dict`` without its random ids, an
error as (status code name, reason, field violations). The parity tests run one
scenario through both and compare what comes back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import grpc
from google.protobuf import json_format
from shopmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from shopmesh.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from shopmesh.orders.v1 import orders_pb2, orders_pb2_grpc
from shopmesh.payments.v1 import payments_pb2, payments_pb2_grpc

from meshkit.http_status import GRPC_TO_HTTP, GrpcCode
from meshkit.runtime.error_mapping import error_from_rpc
from meshkit.runtime.rest.errors import error_from_document
from tests.integration.mesh_fixture import Mesh

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Failure:
    """A call that failed, as both transports must report it."""

    code: str
    reason: str
    fields: tuple[str, ...]
    order_id: str = field(default="", compare=False)
    """The failed order's id (random, so not compared)."""


Result = dict[str, Any] | Failure


def ids(result: Result) -> tuple[str, str]:
    """The (order id, charge id) a result names, "" where it names none."""
    if isinstance(result, Failure):
        return result.order_id, ""
    return result.get("_orderId", ""), result.get("_chargeId", "")


class Shop(Protocol):
    async def place_order(
        self, key: str, items: list[tuple[str, int]], region: str, token: str
    ) -> Result: ...

    async def get_order(self, order_id: str) -> Result: ...

    async def cancel_order(self, order_id: str) -> Result: ...

    async def get_product(self, sku: str) -> Result: ...

    async def stock(self, sku: str) -> Result: ...

    async def charge(self, charge_id: str) -> Result: ...

    async def event_types(self, order_id: str) -> list[str]: ...


def _failure(code: str, reason: str, fields: list[str], metadata: dict[str, str]) -> Failure:
    return Failure(code, reason, tuple(sorted(fields)), metadata.get("order_id", ""))


class GrpcShop:
    def __init__(self, mesh: Mesh, channels: dict[str, grpc.aio.Channel]) -> None:
        self._orders = orders_pb2_grpc.OrdersServiceStub(channels["orders"])
        self._inventory = inventory_pb2_grpc.InventoryServiceStub(channels["inventory"])
        self._payments = payments_pb2_grpc.PaymentsServiceStub(channels["payments"])
        self._catalog = catalog_pb2_grpc.CatalogServiceStub(channels["catalog"])

    async def _call(self, method: Any, request: Any, field: str) -> Result:
        try:
            reply = await method(request, timeout=TIMEOUT_S)
        except grpc.aio.AioRpcError as caught:
            error = error_from_rpc(caught)
            fields = [v.field for v in error.violations]
            return _failure(caught.code().name, error.reason, fields, dict(error.metadata))
        return _grpc_value(getattr(reply, field))

    async def place_order(
        self, key: str, items: list[tuple[str, int]], region: str, token: str
    ) -> Result:
        request = orders_pb2.PlaceOrderRequest(
            idempotency_key=key,
            customer_id="cust-1",
            items=[orders_pb2.OrderItem(sku=sku, quantity=qty) for sku, qty in items],
            region=region,
            payment_token=token,
        )
        return await self._call(self._orders.PlaceOrder, request, "order")

    async def get_order(self, order_id: str) -> Result:
        request = orders_pb2.GetOrderRequest(order_id=order_id)
        return await self._call(self._orders.GetOrder, request, "order")

    async def cancel_order(self, order_id: str) -> Result:
        request = orders_pb2.CancelOrderRequest(order_id=order_id, reason="parity")
        return await self._call(self._orders.CancelOrder, request, "order")

    async def get_product(self, sku: str) -> Result:
        request = catalog_pb2.GetProductRequest(sku=sku)
        return await self._call(self._catalog.GetProduct, request, "product")

    async def stock(self, sku: str) -> Result:
        request = inventory_pb2.GetStockRequest(sku=sku)
        return await self._call(self._inventory.GetStock, request, "stock")

    async def charge(self, charge_id: str) -> Result:
        request = payments_pb2.GetChargeRequest(charge_id=charge_id)
        return await self._call(self._payments.GetCharge, request, "charge")

    async def event_types(self, order_id: str) -> list[str]:
        request = orders_pb2.WatchOrdersRequest(order_id=order_id)
        call = self._orders.WatchOrders(request, timeout=TIMEOUT_S)
        types = []
        try:
            while True:  # stored events, then the live tail: read until it goes quiet
                reply = await asyncio.wait_for(call.read(), 0.3)
                assert isinstance(reply, orders_pb2.WatchOrdersResponse)
                types.append(orders_pb2.OrderEventType.Name(reply.event.type))
        except TimeoutError:
            call.cancel()
        return [name.removeprefix("ORDER_EVENT_TYPE_") for name in types]


def _grpc_value(message: Any) -> dict[str, Any]:
    """The fields both transports share, from a proto message, keyed like REST's JSON."""
    document = json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    return dict(_neutral(document))


_STATE_PREFIXES = ("ORDER_STATE_", "RESERVATION_STATE_", "CHARGE_STATE_")


def _neutral(document: Any) -> Any:
    """Drops what differs by design (random ids, times), and proto JSON's quirks
    (int64 as strings, enum prefixes), so both transports compare equal."""
    if isinstance(document, list):
        return [_neutral(item) for item in document]
    if not isinstance(document, dict):
        return document
    result: dict[str, Any] = {}
    for key, value in document.items():
        if key in {"orderId", "chargeId"}:
            result["_" + key] = value  # kept for follow-up calls, dropped by ``same``
            continue
        if key in {"reservationKey", "createTime", "updateTime", "reference", "idempotencyKey"}:
            result[key + "Set"] = bool(value)
            continue
        if key == "amountMinor":
            value = int(value)
        if key == "state" and isinstance(value, str):
            for prefix in _STATE_PREFIXES:
                value = value.removeprefix(prefix)
        result[key] = _neutral(value)
    return result


class RestShop:
    def __init__(self, mesh: Mesh, session: aiohttp.ClientSession) -> None:
        self._mesh = mesh
        self._session = session

    async def _call(
        self,
        service: str,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Result:
        async with self._session.request(
            method,
            self._mesh.url(service) + path,
            json=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
        ) as reply:
            document = await reply.json()
        if reply.status == 200:
            return dict(_neutral(document))
        code = GrpcCode(document["code"])
        assert reply.status == GRPC_TO_HTTP[code], (reply.status, document)
        error = error_from_document(reply.status, document)
        fields = [v.field for v in error.violations]
        return _failure(code.name, error.reason, fields, dict(error.metadata))

    async def place_order(
        self, key: str, items: list[tuple[str, int]], region: str, token: str
    ) -> Result:
        body = {
            "customerId": "cust-1",
            "items": [{"sku": sku, "quantity": qty} for sku, qty in items],
            "region": region,
            "paymentToken": token,
        }
        return await self._call("orders", "POST", "/v1/orders", body, {"idempotency-key": key})

    async def get_order(self, order_id: str) -> Result:
        return await self._call("orders", "GET", f"/v1/orders/{order_id}")

    async def cancel_order(self, order_id: str) -> Result:
        return await self._call(
            "orders", "POST", f"/v1/orders/{order_id}/cancel", {"reason": "parity"}
        )

    async def get_product(self, sku: str) -> Result:
        return await self._call("catalog", "GET", f"/v1/products/{sku}")

    async def stock(self, sku: str) -> Result:
        return await self._call("inventory", "GET", f"/v1/stock/{sku}")

    async def charge(self, charge_id: str) -> Result:
        return await self._call("payments", "GET", f"/v1/charges/{charge_id}")

    async def event_types(self, order_id: str) -> list[str]:
        url = self._mesh.url("orders") + "/v1/orders/events"
        async with self._session.get(url, params={"orderId": order_id, "limit": "1000"}) as reply:
            events = (await reply.json())["events"]
        return [event["type"] for event in events]


def same(result: Result) -> Any:
    """``result`` without the random ids ``ids`` reads: what must match across transports."""
    if isinstance(result, Failure):
        return result
    return {key: value for key, value in result.items() if not key.startswith("_")}
