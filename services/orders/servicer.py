"""OrdersService over gRPC: protobuf ↔ orders domain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from shopmesh.orders.v1 import orders_pb2, orders_pb2_grpc

from meshkit.runtime.config import DEFAULT_STREAM_HEARTBEAT_S
from meshkit.runtime.heartbeats import with_heartbeats
from services.kernel.convert import money_to_pb, timestamp_to_pb
from services.orders.domain import Orders
from services.orders.model import (
    LineItem,
    Order,
    OrderEvent,
    OrderEventType,
    OrderState,
    PlaceOrder,
)

SERVICE_NAME: str = orders_pb2.DESCRIPTOR.services_by_name["OrdersService"].full_name

_STATES = {state: orders_pb2.OrderState.Value(f"ORDER_STATE_{state.name}") for state in OrderState}
_EVENT_TYPES = {
    kind: orders_pb2.OrderEventType.Value(f"ORDER_EVENT_TYPE_{kind.name}")
    for kind in OrderEventType
}


def order_to_pb(order: Order) -> orders_pb2.Order:
    message = orders_pb2.Order(
        order_id=order.order_id,
        customer_id=order.customer_id,
        state=_STATES[order.state],
        lines=[
            orders_pb2.OrderLine(
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                total=money_to_pb(line.total),
                reservation_key=line.reservation_key,
            )
            for line in order.lines
        ],
        total=money_to_pb(order.total),
        charge_id=order.charge_id,
        create_time=timestamp_to_pb(order.create_time),
        update_time=timestamp_to_pb(order.update_time),
    )
    if order.failure is not None:
        message.failure.CopyFrom(
            orders_pb2.OrderFailure(
                step=order.failure.step, reason=order.failure.reason, message=order.failure.message
            )
        )
    return message


def event_to_pb(event: OrderEvent) -> orders_pb2.OrderEvent:
    return orders_pb2.OrderEvent(
        sequence=event.sequence,
        order_id=event.order_id,
        type=_EVENT_TYPES[event.type],
        detail=event.detail,
        create_time=timestamp_to_pb(event.create_time),
    )


class OrdersServicer(orders_pb2_grpc.OrdersServiceServicer):
    def __init__(self, orders: Orders, heartbeat_s: float = DEFAULT_STREAM_HEARTBEAT_S) -> None:
        self._orders = orders
        self._heartbeat_s = heartbeat_s

    async def PlaceOrder(  # noqa: N802 - gRPC method name
        self, request: orders_pb2.PlaceOrderRequest, context: Any
    ) -> orders_pb2.PlaceOrderResponse:
        command = PlaceOrder(
            idempotency_key=request.idempotency_key,
            customer_id=request.customer_id,
            items=tuple(LineItem(item.sku, item.quantity) for item in request.items),
            region=request.region,
            promo_code=request.promo_code,
            payment_token=request.payment_token,
        )
        order = await self._orders.place_order(command)
        return orders_pb2.PlaceOrderResponse(order=order_to_pb(order))

    async def GetOrder(  # noqa: N802
        self, request: orders_pb2.GetOrderRequest, context: Any
    ) -> orders_pb2.GetOrderResponse:
        return orders_pb2.GetOrderResponse(
            order=order_to_pb(await self._orders.get_order(request.order_id))
        )

    async def CancelOrder(  # noqa: N802
        self, request: orders_pb2.CancelOrderRequest, context: Any
    ) -> orders_pb2.CancelOrderResponse:
        order = await self._orders.cancel_order(request.order_id, request.reason)
        return orders_pb2.CancelOrderResponse(order=order_to_pb(order))

    async def WatchOrders(  # noqa: N802
        self, request: orders_pb2.WatchOrdersRequest, context: Any
    ) -> AsyncIterator[orders_pb2.WatchOrdersResponse]:
        events = self._orders.watch(request.after_sequence, request.order_id)
        async for event in with_heartbeats(events, self._heartbeat_s):
            if event is None:
                yield orders_pb2.WatchOrdersResponse(heartbeat=True)
            else:
                yield orders_pb2.WatchOrdersResponse(event=event_to_pb(event))
