"""InventoryService's REST/JSON baseline: stock and reservations as resources.

``GET /v1/stock/{sku}``, ``POST /v1/reservations`` (one item), ``POST
/v1/reservations/batch`` (many items, one outcome each: an item that cannot be reserved
fails only itself, as on the gRPC bidi stream), ``GET /v1/reservations/{reservationKey}``,
``POST /v1/reservations/{reservationKey}/release`` and ``POST /v1/stock/restock``.
"""

from __future__ import annotations

from typing import Any

from meshkit.errors import DomainError
from meshkit.runtime.rest.body import JsonObject
from meshkit.runtime.rest.errors import status_document
from meshkit.runtime.rest.request import RestRequest
from meshkit.runtime.rest.router import Route
from services.inventory.domain import Inventory, Reservation, ReservationWanted, Stock
from services.kernel.convert import time_json


def reservation_json(reservation: Reservation) -> dict[str, Any]:
    return {
        "reservationKey": reservation.reservation_key,
        "sku": reservation.sku,
        "quantity": reservation.quantity,
        "state": reservation.state.value,
        "createTime": time_json(reservation.create_time),
    }


def stock_json(stock: Stock) -> dict[str, Any]:
    return {"sku": stock.sku, "available": stock.available, "reserved": stock.reserved}


def _wanted(item: JsonObject) -> ReservationWanted:
    return ReservationWanted(
        item.string("reservationKey"), item.string("sku"), item.integer("quantity")
    )


def _outcome_json(key: str, outcome: Reservation | DomainError) -> dict[str, Any]:
    if isinstance(outcome, DomainError):
        return {"reservationKey": key, "error": status_document(outcome)}
    return {"reservationKey": key, "reservation": reservation_json(outcome)}


class InventoryResource:
    def __init__(self, inventory: Inventory) -> None:
        self._inventory = inventory

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v1/stock/{sku}", self.get_stock),
            Route("POST", "/v1/stock/restock", self.restock),
            Route("POST", "/v1/reservations", self.reserve),
            Route("POST", "/v1/reservations/batch", self.reserve_batch),
            Route("GET", "/v1/reservations/{reservationKey}", self.get_reservation),
            Route("POST", "/v1/reservations/{reservationKey}/release", self.release),
        ]

    async def get_stock(self, request: RestRequest) -> dict[str, Any]:
        return stock_json(await self._inventory.get_stock(request.params["sku"]))

    async def reserve(self, request: RestRequest) -> dict[str, Any]:
        body = request.json()
        line = _wanted(body)
        body.done()
        reservation = await self._inventory.reserve(line.reservation_key, line.sku, line.quantity)
        return reservation_json(reservation)

    async def reserve_batch(self, request: RestRequest) -> dict[str, Any]:
        body = request.json()
        wanted = body.each("reservations", _wanted)
        body.done()
        outcomes = await self._inventory.reserve_each(wanted)
        return {
            "results": [
                _outcome_json(line.reservation_key, outcome)
                for line, outcome in zip(wanted, outcomes, strict=True)
            ]
        }

    async def get_reservation(self, request: RestRequest) -> dict[str, Any]:
        reservation = await self._inventory.get_reservation(request.params["reservationKey"])
        return reservation_json(reservation)

    async def release(self, request: RestRequest) -> dict[str, Any]:
        request.optional_json().done()
        reservation = await self._inventory.release(request.params["reservationKey"])
        return reservation_json(reservation)

    async def restock(self, request: RestRequest) -> dict[str, Any]:
        body = request.json()
        deliveries = body.each("deliveries", lambda i: (i.string("sku"), i.integer("quantity")))
        body.done()
        await self._inventory.restock_many(deliveries)
        return {"deliveries": len(deliveries), "unitsAdded": sum(q for _, q in deliveries)}
