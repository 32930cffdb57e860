"""OrdersService's REST/JSON baseline: orders as resources.

``POST /v1/orders`` (keyed by the ``Idempotency-Key`` header), ``GET
/v1/orders/{orderId}``, ``POST /v1/orders/{orderId}/cancel`` and ``GET
/v1/orders/events?afterSequence=&orderId=&limit=``: a page of the event log to poll,
where the gRPC side keeps one WatchOrders stream open.
"""

from __future__ import annotations

from typing import Any

from meshkit.runtime.rest.request import RestRequest
from meshkit.runtime.rest.router import Route
from services.kernel.convert import money_json, time_json
from services.orders.domain import Orders
from services.orders.model import LineItem, Order, OrderEvent, PlaceOrder

IDEMPOTENCY_KEY_HEADER = b"idempotency-key"
DEFAULT_EVENT_PAGE = 100
MAX_EVENT_PAGE = 1000


def order_json(order: Order) -> dict[str, Any]:
    document: dict[str, Any] = {
        "orderId": order.order_id,
        "customerId": order.customer_id,
        "state": order.state.value,
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "total": money_json(line.total),
                "reservationKey": line.reservation_key,
            }
            for line in order.lines
        ],
        "total": money_json(order.total),
        "chargeId": order.charge_id,
        "createTime": time_json(order.create_time),
        "updateTime": time_json(order.update_time),
    }
    if order.failure is not None:
        failure = order.failure
        document["failure"] = {
            "step": failure.step,
            "reason": failure.reason,
            "message": failure.message,
        }
    return document


def event_json(event: OrderEvent) -> dict[str, Any]:
    return {
        "sequence": event.sequence,
        "orderId": event.order_id,
        "type": event.type.value,
        "detail": event.detail,
        "createTime": time_json(event.create_time),
    }


class OrdersResource:
    def __init__(self, orders: Orders) -> None:
        self._orders = orders

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/v1/orders", self.place_order),
            Route("GET", "/v1/orders/events", self.list_events),
            Route("GET", "/v1/orders/{orderId}", self.get_order),
            Route("POST", "/v1/orders/{orderId}/cancel", self.cancel_order),
        ]

    async def place_order(self, request: RestRequest) -> dict[str, Any]:
        body = request.json()
        items = body.each("items", lambda i: LineItem(i.string("sku"), i.integer("quantity")))
        command = PlaceOrder(
            idempotency_key=request.header(IDEMPOTENCY_KEY_HEADER),
            customer_id=body.string("customerId"),
            items=tuple(items),
            region=body.string("region"),
            promo_code=body.string("promoCode"),
            payment_token=body.string("paymentToken"),
        )
        body.done()
        return order_json(await self._orders.place_order(command))

    async def get_order(self, request: RestRequest) -> dict[str, Any]:
        return order_json(await self._orders.get_order(request.params["orderId"]))

    async def cancel_order(self, request: RestRequest) -> dict[str, Any]:
        body = request.optional_json()
        reason = body.string("reason")
        body.done()
        return order_json(await self._orders.cancel_order(request.params["orderId"], reason))

    async def list_events(self, request: RestRequest) -> dict[str, Any]:
        query = request.query()
        after = query.integer("afterSequence")
        order_id = query.string("orderId")
        limit = min(
            query.integer("limit", DEFAULT_EVENT_PAGE) or DEFAULT_EVENT_PAGE, MAX_EVENT_PAGE
        )
        query.done()
        events = await self._orders.events_after(after, order_id, limit=limit)
        return {"events": [event_json(event) for event in events]}
