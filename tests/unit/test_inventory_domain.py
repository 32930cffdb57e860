"""Stock and reservations on SQLite: idempotency, atomicity, persistence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshkit.errors import FailedPrecondition, InvalidArgument, NotFound
from meshkit.storage.dynamodb import Table
from services.inventory.domain import (
    Inventory,
    InventoryRecords,
    InventoryStorage,
    ReservationState,
    Stock,
)
from services.inventory.dynamodb_store import DynamoInventoryRecords, DynamoInventoryStore
from services.inventory.sqlite_store import SqliteInventoryRecords, SqliteInventoryStore
from services.kernel.seed import seed_products
from tests.moto_aws import create_table, dynamodb_client

SKU = "SKU-00001"
OTHER = "SKU-00002"


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[InventoryStorage]:
    """Every test runs on both stores: SQLite, and DynamoDB on a local moto server."""
    store: InventoryStorage
    if request.param == "sqlite":
        store = SqliteInventoryStore(":memory:", {SKU: 10, OTHER: 5})
    else:
        store = DynamoInventoryStore(request.getfixturevalue("dynamo_table"), {SKU: 10, OTHER: 5})
    yield store
    store.close()


@pytest.fixture
def inventory(store: InventoryStorage) -> Inventory:
    return Inventory(store)


async def test_reserve_holds_units(inventory: Inventory) -> None:
    """A reservation moves units from available to reserved."""
    reservation = await inventory.reserve("order-1/0", SKU, 3)

    assert (reservation.sku, reservation.quantity) == (SKU, 3)
    assert reservation.state is ReservationState.HELD
    assert reservation.create_time.utcoffset() is not None
    assert await inventory.get_stock(SKU) == Stock(SKU, 7, 3)


async def test_reserve_same_key_returns_the_stored_reservation_untouched(
    inventory: Inventory,
) -> None:
    """Repeating a key returns the first reservation and moves no stock, even once released."""
    first = await inventory.reserve("k", SKU, 3)
    assert await inventory.reserve("k", SKU, 3) == first
    assert await inventory.get_stock(SKU) == Stock(SKU, 7, 3)

    released = await inventory.release("k")

    assert await inventory.reserve("k", SKU, 3) == released
    assert await inventory.get_stock(SKU) == Stock(SKU, 10, 0)


@pytest.mark.parametrize(("sku", "quantity"), [(SKU, 4), (OTHER, 3)])
async def test_reserve_same_key_different_request_is_rejected(
    inventory: Inventory, sku: str, quantity: int
) -> None:
    """A key reused with another SKU or quantity is IDEMPOTENCY_KEY_REUSED."""
    await inventory.reserve("k", SKU, 3)

    with pytest.raises(InvalidArgument) as caught:
        await inventory.reserve("k", sku, quantity)

    assert caught.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert [v.field for v in caught.value.violations] == ["reservation_key"]


async def test_reserve_insufficient_stock_changes_nothing(inventory: Inventory) -> None:
    """Asking for more than is available fails with the numbers and leaves no trace."""
    with pytest.raises(FailedPrecondition) as caught:
        await inventory.reserve("k", OTHER, 6)

    assert caught.value.reason == "INSUFFICIENT_STOCK"
    assert caught.value.metadata == {"sku": OTHER, "available": "5", "requested": "6"}
    assert await inventory.get_stock(OTHER) == Stock(OTHER, 5, 0)
    with pytest.raises(NotFound):
        await inventory.release("k")


async def test_reserve_reports_every_bad_field(inventory: Inventory) -> None:
    """Key, SKU and quantity problems come back together."""
    with pytest.raises(InvalidArgument) as caught:
        await inventory.reserve("", "bad", 0)

    assert [v.field for v in caught.value.violations] == ["reservation_key", "sku", "quantity"]


@pytest.mark.parametrize("key", ["x" * 201, "tab\there"])
async def test_reserve_rejects_an_overlong_or_unprintable_key(
    inventory: Inventory, key: str
) -> None:
    """Keys are 1 to 200 printable characters."""
    with pytest.raises(InvalidArgument):
        await inventory.reserve(key, SKU, 1)


async def test_reserve_unknown_sku_is_not_found(inventory: Inventory) -> None:
    """A well-formed SKU without stock is PRODUCT_NOT_FOUND."""
    with pytest.raises(NotFound) as caught:
        await inventory.reserve("k", "SKU-00077", 1)

    assert caught.value.reason == "PRODUCT_NOT_FOUND"


async def test_release_returns_units_exactly_once(inventory: Inventory) -> None:
    """Releasing twice returns the units once and the released reservation both times."""
    await inventory.reserve("k", SKU, 4)

    first = await inventory.release("k")
    second = await inventory.release("k")

    assert first == second
    assert first.state is ReservationState.RELEASED
    assert await inventory.get_stock(SKU) == Stock(SKU, 10, 0)


async def test_get_reservation_reads_its_state_by_key_and_moves_nothing(
    inventory: Inventory,
) -> None:
    """A reservation reads back HELD, then RELEASED once released; reading moves no stock;
    an unknown key is RESERVATION_NOT_FOUND, an empty one INVALID_ARGUMENT."""
    made = await inventory.reserve("ord_1/0", SKU, 2)

    assert await inventory.get_reservation("ord_1/0") == made
    released = await inventory.release("ord_1/0")
    assert await inventory.get_reservation("ord_1/0") == released
    assert released.state is ReservationState.RELEASED
    assert await inventory.get_stock(SKU) == Stock(SKU, 10, 0)
    with pytest.raises(NotFound) as caught:
        await inventory.get_reservation("never")
    assert caught.value.reason == "RESERVATION_NOT_FOUND"
    with pytest.raises(InvalidArgument):
        await inventory.get_reservation("")


async def test_release_unknown_key_is_not_found(inventory: Inventory) -> None:
    """Releasing a key never reserved is RESERVATION_NOT_FOUND."""
    with pytest.raises(NotFound) as caught:
        await inventory.release("never")

    assert caught.value.reason == "RESERVATION_NOT_FOUND"


async def test_restock_adds_available_units(inventory: Inventory) -> None:
    """A delivery adds to available stock only."""
    await inventory.reserve("k", SKU, 2)

    assert await inventory.restock(SKU, 100) == Stock(SKU, 108, 2)


@pytest.mark.parametrize("quantity", [0, 1_000_001])
async def test_restock_rejects_a_quantity_out_of_range(inventory: Inventory, quantity: int) -> None:
    """Deliveries are 1 to 1,000,000 units."""
    with pytest.raises(InvalidArgument) as caught:
        await inventory.restock(SKU, quantity)

    assert [v.field for v in caught.value.violations] == ["quantity"]


async def test_restock_many_applies_a_whole_delivery_note(inventory: Inventory) -> None:
    """Every line of a note is added, a SKU delivered twice twice over."""
    stocks = await inventory.restock_many([(SKU, 5), (OTHER, 1), (SKU, 2)])

    assert stocks == [Stock(SKU, 15, 0), Stock(OTHER, 6, 0), Stock(SKU, 17, 0)]


async def test_restock_many_with_a_bad_line_changes_nothing(inventory: Inventory) -> None:
    """A note with an invalid or an unknown line is rejected whole and moves no stock."""
    with pytest.raises(InvalidArgument) as caught:
        await inventory.restock_many([(SKU, 5), ("bad", 1), (OTHER, 0)])
    assert [v.field for v in caught.value.violations] == [
        "deliveries[1].sku",
        "deliveries[2].quantity",
    ]
    with pytest.raises(NotFound):
        await inventory.restock_many([(SKU, 5), ("SKU-00077", 1)])

    assert await inventory.get_stock(SKU) == Stock(SKU, 10, 0)


async def test_reserve_error_mid_write_rolls_back_everything(
    inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the stock update fails after the reservation row was written, neither persists."""

    def broken_move(self: object, sku: str, available: int, reserved: int) -> Stock:
        raise OSError("disk full")

    for records in (SqliteInventoryRecords, DynamoInventoryRecords):
        monkeypatch.setattr(records, "move_stock", broken_move)
    with pytest.raises(OSError, match="disk full"):
        await inventory.reserve("k", SKU, 1)
    monkeypatch.undo()

    with pytest.raises(NotFound):
        await inventory.release("k")
    assert await inventory.get_stock(SKU) == Stock(SKU, 10, 0)


async def test_store_seeds_from_the_product_seed_by_default() -> None:
    """A new default store holds every seeded product's initial stock."""
    store = SqliteInventoryStore(":memory:")
    try:
        inventory = Inventory(store)
        for product in seed_products()[:5]:
            assert await inventory.get_stock(product.sku) == Stock(
                product.sku, product.initial_stock, 0
            )
    finally:
        store.close()


async def test_store_keeps_state_across_reopen_and_never_reseeds(tmp_path: Path) -> None:
    """Reopening the file keeps stock and reservations; a different seed is ignored."""
    path = tmp_path / "inventory.db"
    store = SqliteInventoryStore(path, {SKU: 10})
    await Inventory(store).reserve("k", SKU, 4)
    store.close()

    reopened = SqliteInventoryStore(path, {SKU: 999})
    try:
        inventory = Inventory(reopened)
        assert await inventory.get_stock(SKU) == Stock(SKU, 6, 4)
        assert (await inventory.release("k")).quantity == 4
    finally:
        reopened.close()


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["reserve", "release", "restock"]),
        st.sampled_from(["a", "b", "c", "d"]),
        st.sampled_from([SKU, OTHER]),
        st.integers(1, 6),
    ),
    max_size=30,
)


@pytest.mark.parametrize("kind", ["sqlite", "dynamodb"])
@settings(max_examples=40, deadline=None)  # a moto round trip per call
@given(operations=OPERATIONS)
async def test_stock_always_adds_up_whatever_the_operations(
    kind: str, moto_endpoint: str, operations: list[tuple[str, str, str, int]]
) -> None:
    """available + reserved equals seed + restocks, and reserved equals the held units."""
    store: InventoryStorage
    if kind == "sqlite":
        store = SqliteInventoryStore(":memory:", {SKU: 10, OTHER: 5})
    else:
        table = Table(dynamodb_client(moto_endpoint), create_table(moto_endpoint))
        store = DynamoInventoryStore(table, {SKU: 10, OTHER: 5})
    inventory = Inventory(store)
    expected_total = {SKU: 10, OTHER: 5}
    try:
        for operation, key, sku, quantity in operations:
            try:
                if operation == "reserve":
                    await inventory.reserve(key, sku, quantity)
                elif operation == "release":
                    await inventory.release(key)
                else:
                    await inventory.restock(sku, quantity)
                    expected_total[sku] += quantity
            except (InvalidArgument, NotFound, FailedPrecondition):
                pass  # rejected operations must simply leave the books balanced
        for sku, total in expected_total.items():
            stock = await inventory.get_stock(sku)
            held = await _held_units(store, sku)
            assert stock.available + stock.reserved == total
            assert stock.reserved == held
            assert stock.available >= 0
    finally:
        store.close()


async def _held_units(store: InventoryStorage, sku: str) -> int:
    def held(records: InventoryRecords) -> int:
        total = 0
        for key in "abcd":
            reservation = records.reservation(key)
            if reservation and reservation.sku == sku:
                total += reservation.quantity * (reservation.state is ReservationState.HELD)
        return total

    return await store.run(held, write=False)
