"""Stock levels and reservations in the service's DynamoDB table.

Items (the storage stack's pk/sk contract):

- ``stock#<sku>`` / ``meta``: ``available``, ``reserved`` — moved with ADD, guarded so
  neither can go below zero even when several tasks reserve the same SKU at once;
- ``reservation#<key>`` / ``meta``: ``sku``, ``quantity``, ``state``, ``create_time`` —
  written only if absent, so one key holds stock once across every task;
- ``seed#stock`` / ``meta``: how many SKUs the table was seeded with.
"""

from __future__ import annotations

from collections.abc import Mapping

from meshkit.storage.dynamodb import META, DynamoStore, Table, UnitOfWork, atomically, number
from meshkit.storage.times import decode_time, encode_time
from services.inventory.domain import InventoryRecords, Reservation, ReservationState, Stock

SEED_MARKER = "seed#stock"


def _stock_pk(sku: str) -> str:
    return f"stock#{sku}"


def _reservation_pk(key: str) -> str:
    return f"reservation#{key}"


class DynamoInventoryStore(DynamoStore[InventoryRecords]):
    """Stock and reservations in one table; seeds SKUs the table does not have yet.

    Seeding only adds missing SKUs (conditional puts), so a second task starting against
    a table in use never resets stock; a marker item skips it on later starts.
    """

    def __init__(self, table: Table, initial_stock: Mapping[str, int]) -> None:
        super().__init__(table, DynamoInventoryRecords)
        marker = table.get(SEED_MARKER)
        if marker is None or number(marker["skus"]) < len(initial_stock):
            for sku, units in initial_stock.items():
                table.put_if_absent(
                    {"pk": _stock_pk(sku), "sk": META, "available": units, "reserved": 0}
                )
            marked = {"pk": SEED_MARKER, "sk": META, "skus": len(initial_stock)}
            atomically(table, lambda unit: unit.put(marked, if_absent=False))


class DynamoInventoryRecords:
    """InventoryRecords over one unit of work."""

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    def stock(self, sku: str) -> Stock | None:
        item = self._unit.get(_stock_pk(sku))
        if item is None:
            return None
        return Stock(sku, number(item["available"]), number(item["reserved"]))

    def move_stock(self, sku: str, available_delta: int, reserved_delta: int) -> Stock:
        self._unit.add(
            _stock_pk(sku), META, {"available": available_delta, "reserved": reserved_delta}
        )
        stock = self.stock(sku)
        if stock is None:
            raise LookupError(f"{sku} is not stocked")
        return stock

    def reservation(self, reservation_key: str) -> Reservation | None:
        item = self._unit.get(_reservation_pk(reservation_key))
        if item is None:
            return None
        return Reservation(
            reservation_key=reservation_key,
            sku=item["sku"],
            quantity=number(item["quantity"]),
            state=ReservationState(item["state"]),
            create_time=decode_time(item["create_time"]),
        )

    def add_reservation(self, reservation: Reservation) -> None:
        self._unit.put(
            {
                "pk": _reservation_pk(reservation.reservation_key),
                "sk": META,
                "sku": reservation.sku,
                "quantity": reservation.quantity,
                "state": reservation.state.value,
                "create_time": encode_time(reservation.create_time),
            }
        )

    def set_state(self, reservation_key: str, state: ReservationState) -> None:
        pk = _reservation_pk(reservation_key)
        self._unit.guard(pk, META, "state")  # a release counts once, whichever task wins
        self._unit.set(pk, META, {"state": state.value})
