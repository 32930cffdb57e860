"""InventoryService over gRPC: protobuf ↔ inventory domain, per-item errors on streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from shopmesh.inventory.v1 import inventory_pb2, inventory_pb2_grpc

from meshkit.errors import DomainError
from meshkit.runtime.error_mapping import status_from_error
from services.inventory.domain import (
    Inventory,
    Reservation,
    ReservationState,
    ReservationWanted,
    Stock,
    check_delivery_count,
)
from services.kernel.convert import timestamp_to_pb

SERVICE_NAME: str = inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"].full_name

_STATES = {
    ReservationState.HELD: inventory_pb2.RESERVATION_STATE_HELD,
    ReservationState.RELEASED: inventory_pb2.RESERVATION_STATE_RELEASED,
}


def reservation_to_pb(reservation: Reservation) -> inventory_pb2.Reservation:
    return inventory_pb2.Reservation(
        reservation_key=reservation.reservation_key,
        sku=reservation.sku,
        quantity=reservation.quantity,
        state=_STATES[reservation.state],
        create_time=timestamp_to_pb(reservation.create_time),
    )


def stock_to_pb(stock: Stock) -> inventory_pb2.Stock:
    return inventory_pb2.Stock(sku=stock.sku, available=stock.available, reserved=stock.reserved)


def _wanted(request: inventory_pb2.ReserveStreamRequest) -> ReservationWanted:
    return ReservationWanted(request.reservation_key, request.sku, request.quantity)


def _outcome_to_pb(
    key: str, outcome: Reservation | DomainError
) -> inventory_pb2.ReserveStreamResponse:
    if isinstance(outcome, DomainError):
        return inventory_pb2.ReserveStreamResponse(
            reservation_key=key, error=status_from_error(outcome)
        )
    return inventory_pb2.ReserveStreamResponse(
        reservation_key=key, reservation=reservation_to_pb(outcome)
    )


class InventoryServicer(inventory_pb2_grpc.InventoryServiceServicer):
    def __init__(self, inventory: Inventory) -> None:
        self._inventory = inventory

    async def GetStock(  # noqa: N802 - gRPC method name
        self, request: inventory_pb2.GetStockRequest, context: Any
    ) -> inventory_pb2.GetStockResponse:
        return inventory_pb2.GetStockResponse(
            stock=stock_to_pb(await self._inventory.get_stock(request.sku))
        )

    async def Reserve(  # noqa: N802
        self, request: inventory_pb2.ReserveRequest, context: Any
    ) -> inventory_pb2.ReserveResponse:
        reservation = await self._inventory.reserve(
            request.reservation_key, request.sku, request.quantity
        )
        return inventory_pb2.ReserveResponse(reservation=reservation_to_pb(reservation))

    async def GetReservation(  # noqa: N802
        self, request: inventory_pb2.GetReservationRequest, context: Any
    ) -> inventory_pb2.GetReservationResponse:
        reservation = await self._inventory.get_reservation(request.reservation_key)
        return inventory_pb2.GetReservationResponse(reservation=reservation_to_pb(reservation))

    async def Release(  # noqa: N802
        self, request: inventory_pb2.ReleaseRequest, context: Any
    ) -> inventory_pb2.ReleaseResponse:
        reservation = await self._inventory.release(request.reservation_key)
        return inventory_pb2.ReleaseResponse(reservation=reservation_to_pb(reservation))

    async def ReserveStream(  # noqa: N802
        self, request_iterator: AsyncIterator[inventory_pb2.ReserveStreamRequest], context: Any
    ) -> AsyncIterator[inventory_pb2.ReserveStreamResponse]:
        async for request in request_iterator:
            [outcome] = await self._inventory.reserve_each([_wanted(request)])
            yield _outcome_to_pb(request.reservation_key, outcome)

    async def BatchReserve(  # noqa: N802
        self, request: inventory_pb2.BatchReserveRequest, context: Any
    ) -> inventory_pb2.BatchReserveResponse:
        wanted = [_wanted(item) for item in request.reservations]
        outcomes = await self._inventory.reserve_each(wanted)
        return inventory_pb2.BatchReserveResponse(
            results=[
                _outcome_to_pb(line.reservation_key, outcome)
                for line, outcome in zip(wanted, outcomes, strict=True)
            ]
        )

    async def Restock(  # noqa: N802
        self, request_iterator: AsyncIterator[inventory_pb2.RestockRequest], context: Any
    ) -> inventory_pb2.RestockResponse:
        # Read the whole delivery note first so a bad line rejects the note before any
        # stock moves; then apply it in one transaction.
        deliveries: list[tuple[str, int]] = []
        async for request in request_iterator:
            check_delivery_count(len(deliveries) + 1)
            deliveries.append((request.sku, request.quantity))
        await self._inventory.restock_many(deliveries)
        return inventory_pb2.RestockResponse(
            deliveries=len(deliveries), units_added=sum(q for _, q in deliveries)
        )
