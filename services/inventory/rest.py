"""InventoryService's REST/JSON baseline: stock and reservations as resources.

``GET /v1/stock/{sku}``, ``POST /v1/reservations`` (one item), ``POST
/v1/reservations/batch`` (many items, one outcome each: an item that cannot be reserved
fails only itself, as on the gRPC bidi stream), ``POST
/v1/reservations/{reservationKey}/release`` and ``POST /v1/stock/restock``.
"""

from __future__ import annotations

from typing import Any

from meshkit.errors import DomainError, FieldViolation, InvalidArgument
from meshkit.runtime.rest.body import JsonObject
from meshkit.runtime.rest.errors import status_document
from meshkit.runtime.rest.request import RestRequest
from meshkit.runtime.rest.router import Route
from meshkit.storage.offload import Offload
from services.inventory.domain import Inventory, Reservation, Stock
from services.kernel.convert import time_json

MAX_BATCH = 1000
MAX_RESTOCK_DELIVERIES = 10_000


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


def _too_many(field: str, limit: int) -> InvalidArgument:
    return InvalidArgument.of(FieldViolation(field, f"at most {limit} per request"))


def _reservation_fields(item: JsonObject) -> tuple[str, str, int]:
    return item.string("reservationKey"), item.string("sku"), item.integer("quantity")


class InventoryResource:
    def __init__(self, inventory: Inventory) -> None:
        self._inventory = inventory
        self._call = Offload(inventory.blocking)

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v1/stock/{sku}", self.get_stock),
            Route("POST", "/v1/stock/restock", self.restock),
            Route("POST", "/v1/reservations", self.reserve),
            Route("POST", "/v1/reservations/batch", self.reserve_batch),
            Route("POST", "/v1/reservations/{reservationKey}/release", self.release),
        ]

    async def get_stock(self, request: RestRequest) -> dict[str, Any]:
        return stock_json(await self._call(self._inventory.get_stock, request.params["sku"]))

    async def reserve(self, request: RestRequest) -> dict[str, Any]:
        body = request.json()
        key, sku, quantity = _reservation_fields(body)
        body.done()
        return reservation_json(await self._call(self._inventory.reserve, key, sku, quantity))

    async def reserve_batch(self, request: RestRequest) -> dict[str, Any]:
        body = request.json()
        wanted = body.each("reservations", _reservation_fields)
        body.done()
        if len(wanted) > MAX_BATCH:
            raise _too_many("reservations", MAX_BATCH)
        return {"results": await self._call(self._reserve_each, wanted)}

    async def release(self, request: RestRequest) -> dict[str, Any]:
        request.optional_json().done()
        key = request.params["reservationKey"]
        return reservation_json(await self._call(self._inventory.release, key))

    async def restock(self, request: RestRequest) -> dict[str, Any]:
        body = request.json()
        deliveries = body.each("deliveries", lambda i: (i.string("sku"), i.integer("quantity")))
        body.done()
        if len(deliveries) > MAX_RESTOCK_DELIVERIES:
            raise _too_many("deliveries", MAX_RESTOCK_DELIVERIES)
        await self._call(self._inventory.restock_many, deliveries)
        return {"deliveries": len(deliveries), "unitsAdded": sum(q for _, q in deliveries)}

    def _reserve_each(self, wanted: list[tuple[str, str, int]]) -> list[dict[str, Any]]:
        """One result per reservation: the reservation, or why that one failed."""
        results: list[dict[str, Any]] = []
        for key, sku, quantity in wanted:
            try:
                reservation = self._inventory.reserve(key, sku, quantity)
            except DomainError as error:
                results.append({"reservationKey": key, "error": status_document(error)})
                continue
            results.append({"reservationKey": key, "reservation": reservation_json(reservation)})
        return results
