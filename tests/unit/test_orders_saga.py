"""The order saga: forward steps, compensation at every step, crash recovery, cancel."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from meshkit.env import ConfigError
from meshkit.errors import (
    Aborted,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from services.kernel.money import Money
from services.orders.config import orders_config_from_env
from services.orders.domain import Orders
from services.orders.dynamodb_store import DynamoOrderRecords
from services.orders.model import (
    Order,
    OrderEventType,
    OrderFailure,
    OrderState,
    reservation_key,
)
from services.orders.sqlite_store import SqliteOrderRecords
from tests.unit.order_fakes import (
    INACTIVE_SKU,
    INITIAL_STOCK,
    UNKNOWN_SKU,
    SimulatedCrash,
    World,
    bounded,
    command,
)

THREE_LINES = (("SKU-00001", 2), ("SKU-00002", 1), ("SKU-00003", 3))
E = OrderEventType


async def event_log(world: World, order_id: str = "") -> list[tuple[OrderEventType, str]]:
    return [(event.type, event.detail) for event in await world.service.events_after(0, order_id)]


async def only_order_id(world: World) -> str:
    created = [e for e in await world.service.events_after(0) if e.type is E.CREATED]
    assert len(created) == 1
    return created[0].order_id


async def test_place_order_confirms_with_lines_totals_and_events(world: World) -> None:
    """A successful saga confirms the order with priced lines, one charge and five events."""
    order = await bounded(world.service.place_order(command(*THREE_LINES)))

    assert order.state is OrderState.CONFIRMED
    assert [(line.sku, line.name, line.quantity, line.total) for line in order.lines] == [
        ("SKU-00001", "Product 01", 2, Money(2000)),
        ("SKU-00002", "Product 02", 1, Money(2500)),
        ("SKU-00003", "Product 03", 3, Money(1200)),
    ]
    assert [line.reservation_key for line in order.lines] == [
        f"{order.order_id}/0",
        f"{order.order_id}/1",
        f"{order.order_id}/2",
    ]
    assert order.total == Money(5700)
    assert order.failure is None
    assert world.payments.charges[order.charge_id].amount == Money(5700)
    assert world.payments.charges[order.charge_id].idempotency_key == f"{order.order_id}/charge"
    assert world.inventory.stock == {
        **INITIAL_STOCK,
        "SKU-00001": 8,
        "SKU-00002": 9,
        "SKU-00003": 7,
    }
    events = await world.service.events_after(0)
    assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
    assert [(e.type, e.detail) for e in events] == [
        (E.CREATED, "cust-1"),
        (E.QUOTED, ""),
        (E.RESERVED, ""),
        (E.CHARGED, order.charge_id),
        (E.CONFIRMED, ""),
    ]
    assert await world.service.get_order(order.order_id) == order


async def assert_failed_cleanly(world: World, error: BaseException, failure: OrderFailure) -> Order:
    """The order FAILED with ``failure``, stock and money are back where they started."""
    order = await world.service.get_order(await only_order_id(world))
    assert order.state is OrderState.FAILED
    assert order.failure == failure
    assert world.inventory.stock == INITIAL_STOCK
    assert world.payments.captured() == 0
    if isinstance(error, DomainError):
        assert error.metadata["order_id"] == order.order_id
    return order


# R-G54: a failure at each saga step compensates the completed steps in reverse, exactly
# once, marks the order FAILED and re-raises the original error.


async def test_place_order_fails_at_lookup_when_a_sku_is_missing(world: World) -> None:
    """An unknown SKU fails the lookup step with PRODUCT_NOT_FOUND and nothing to undo."""
    with pytest.raises(NotFound) as caught:
        await bounded(world.service.place_order(command(("SKU-00001", 1), (UNKNOWN_SKU, 1))))

    assert caught.value.reason == "PRODUCT_NOT_FOUND"
    assert caught.value.metadata["field"] == "items[1].sku"
    order = await assert_failed_cleanly(
        world,
        caught.value,
        OrderFailure("lookup", "PRODUCT_NOT_FOUND", f"product {UNKNOWN_SKU} does not exist"),
    )
    assert (world.pricing.calls, world.inventory.reserve_calls) == (0, 0)
    assert [t for t, _ in await event_log(world, order.order_id)] == [E.CREATED, E.FAILED]


async def test_place_order_fails_at_lookup_when_a_product_is_inactive(world: World) -> None:
    """An inactive product fails the lookup step with PRODUCT_INACTIVE."""
    with pytest.raises(FailedPrecondition) as caught:
        await bounded(world.service.place_order(command((INACTIVE_SKU, 1))))

    assert caught.value.reason == "PRODUCT_INACTIVE"
    assert caught.value.metadata["field"] == "items[0].sku"
    await assert_failed_cleanly(
        world,
        caught.value,
        OrderFailure(
            "lookup", "PRODUCT_INACTIVE", f"product {INACTIVE_SKU} can no longer be ordered"
        ),
    )


async def test_place_order_fails_at_quote_with_the_pricing_error(world: World) -> None:
    """A pricing error fails the quote step and is re-raised with its class, reason, message."""
    world.pricing.error = InvalidArgument(
        message="region XX unsupported", reason="UNSUPPORTED_REGION"
    )

    with pytest.raises(InvalidArgument) as caught:
        await bounded(world.service.place_order(command()))

    assert (caught.value.reason, caught.value.message) == (
        "UNSUPPORTED_REGION",
        "region XX unsupported",
    )
    await assert_failed_cleanly(
        world, caught.value, OrderFailure("quote", "UNSUPPORTED_REGION", "region XX unsupported")
    )
    assert world.inventory.reserve_calls == 0


async def test_place_order_releases_reserved_lines_in_reverse_when_one_line_fails(
    world: World,
) -> None:
    """When one of three lines cannot be reserved, the two held lines are released in reverse."""
    world.inventory.stock["SKU-00002"] = 0
    stock_before = dict(world.inventory.stock)

    with pytest.raises(FailedPrecondition) as caught:
        await bounded(world.service.place_order(command(*THREE_LINES)))

    assert caught.value.reason == "INSUFFICIENT_STOCK"
    order_id = await only_order_id(world)
    assert world.inventory.release_calls == [
        reservation_key(order_id, 2),
        reservation_key(order_id, 0),
    ]
    assert world.inventory.stock == stock_before
    assert world.payments.charge_calls == 0
    assert await event_log(world) == [
        (E.CREATED, "cust-1"),
        (E.QUOTED, ""),
        (E.STOCK_RELEASED, "SKU-00003"),
        (E.STOCK_RELEASED, "SKU-00001"),
        (E.FAILED, "only 0 left"),
    ]
    order = await world.service.get_order(order_id)
    assert order.failure == OrderFailure("reserve", "INSUFFICIENT_STOCK", "only 0 left")


async def test_place_order_releases_every_line_when_the_charge_is_declined(world: World) -> None:
    """A declined charge releases every reserved line, newest first, and charges nothing."""
    with pytest.raises(FailedPrecondition) as caught:
        await bounded(world.service.place_order(command(token="tok_decline")))

    assert caught.value.reason == "PAYMENT_DECLINED"
    order = await assert_failed_cleanly(
        world, caught.value, OrderFailure("charge", "PAYMENT_DECLINED", "the card was declined")
    )
    assert world.inventory.release_calls == [
        reservation_key(order.order_id, 1),
        reservation_key(order.order_id, 0),
    ]
    assert [t for t, _ in await event_log(world)] == [
        E.CREATED,
        E.QUOTED,
        E.RESERVED,
        E.STOCK_RELEASED,
        E.STOCK_RELEASED,
        E.FAILED,
    ]


async def test_skip_stock_release_fault_logs_releases_it_never_makes(world: World) -> None:
    """The fault-injection switch breaks compensation on purpose: a declined order ends
    FAILED with STOCK_RELEASED events, but inventory was never asked and still holds it."""
    world.service = Orders(
        world.store,
        world.catalog,
        world.pricing,
        world.inventory,
        world.payments,
        skip_stock_release=True,
    )
    with pytest.raises(FailedPrecondition):
        await bounded(world.service.place_order(command(token="tok_decline")))

    assert world.inventory.release_calls == []
    assert world.inventory.stock != INITIAL_STOCK
    assert [t for t, _ in await event_log(world)].count(E.STOCK_RELEASED) == 2


def _failing_confirm(set_state: Callable[..., None], error: Exception) -> Callable[..., None]:
    """``set_state`` of a records class, raising ``error`` when an order would confirm."""

    def failing(self: object, order_id: str, state: OrderState, *args: Any) -> None:
        if state is OrderState.CONFIRMED:
            raise error
        set_state(self, order_id, state, *args)

    return failing


async def test_place_order_refunds_then_releases_when_confirm_fails(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing confirm write refunds the charge first, then releases lines, and re-raises."""
    disk_error = sqlite3.OperationalError("disk I/O error")
    for records in (SqliteOrderRecords, DynamoOrderRecords):
        monkeypatch.setattr(records, "set_state", _failing_confirm(records.set_state, disk_error))

    with pytest.raises(sqlite3.OperationalError) as caught:
        await bounded(world.service.place_order(command()))

    assert caught.value is disk_error
    order = await assert_failed_cleanly(
        world,
        caught.value,
        OrderFailure("confirm", "INTERNAL", "unexpected error in the confirm step"),
    )
    (charge_id,) = world.payments.charges
    assert world.payments.refund_calls == [charge_id]
    assert world.inventory.release_calls == [
        reservation_key(order.order_id, 1),
        reservation_key(order.order_id, 0),
    ]
    assert (await event_log(world))[3:] == [
        (E.CHARGED, charge_id),
        (E.REFUNDED, charge_id),
        (E.STOCK_RELEASED, "SKU-00002"),
        (E.STOCK_RELEASED, "SKU-00001"),
        (E.FAILED, "unexpected error in the confirm step"),
    ]


async def test_place_order_reraises_an_unexpected_port_exception_as_is(world: World) -> None:
    """A non-domain exception from a port fails the step as INTERNAL and is re-raised itself."""
    boom = RuntimeError("pricing client bug")
    world.pricing.error = boom

    with pytest.raises(RuntimeError) as caught:
        await bounded(world.service.place_order(command()))

    assert caught.value is boom
    await assert_failed_cleanly(
        world, boom, OrderFailure("quote", "INTERNAL", "unexpected error in the quote step")
    )


async def test_place_order_releases_in_doubt_reservations_when_reserve_raises(
    world: World,
) -> None:
    """A reserve call that raised gets each line released; only real releases are events."""
    world.inventory.stock["SKU-00002"] = 0  # line 1 is never reserved downstream
    world.inventory.error_after_reserve = TimeoutError("reply lost")

    with pytest.raises(TimeoutError):
        await bounded(world.service.place_order(command()))

    order = await world.service.get_order(await only_order_id(world))
    assert order.state is OrderState.FAILED
    assert order.failure == OrderFailure(
        "reserve", "INTERNAL", "unexpected error in the reserve step"
    )
    assert world.inventory.release_calls == [
        reservation_key(order.order_id, 1),
        reservation_key(order.order_id, 0),
    ]
    assert world.inventory.stock["SKU-00001"] == INITIAL_STOCK["SKU-00001"]
    assert (await event_log(world))[2:] == [
        (E.STOCK_RELEASED, "SKU-00001"),
        (E.FAILED, "unexpected error in the reserve step"),
    ]


async def test_charge_whose_reply_was_lost_is_found_by_key_and_refunded(world: World) -> None:
    """A charge that took effect but lost its reply is found by its key and refunded once."""
    world.payments.error_after_charge = TimeoutError("reply lost")

    with pytest.raises(TimeoutError):
        await bounded(world.service.place_order(command()))

    order = await world.service.get_order(await only_order_id(world))
    assert order.state is OrderState.FAILED
    (charge_id,) = world.payments.charges
    assert world.payments.refund_calls == [charge_id]
    assert world.payments.charges[charge_id].refunds == 1
    assert world.inventory.stock == INITIAL_STOCK
    assert [t for t, _ in await event_log(world)].count(E.REFUNDED) == 1


async def test_failed_compensation_leaves_order_pending_until_resumed(world: World) -> None:
    """A release that fails leaves the order PENDING; resume_incomplete later finishes it."""
    world.inventory.fail_releases = 1

    with pytest.raises(FailedPrecondition) as caught:
        await bounded(world.service.place_order(command(token="tok_decline")))

    assert caught.value.reason == "PAYMENT_DECLINED"
    order_id = await only_order_id(world)
    assert (await world.service.get_order(order_id)).state is OrderState.PENDING
    assert world.inventory.stock != INITIAL_STOCK

    assert await bounded(world.service.resume_incomplete()) == 1

    order = await assert_failed_cleanly(
        world, caught.value, OrderFailure("charge", "PAYMENT_DECLINED", "the card was declined")
    )
    key0, key1 = reservation_key(order.order_id, 0), reservation_key(order.order_id, 1)
    assert world.inventory.release_calls == [key1, key1, key0]
    assert world.inventory.released == {key0: 1, key1: 1}
    assert [t for t, _ in await event_log(world)].count(E.STOCK_RELEASED) == 2
    assert await bounded(world.service.resume_incomplete()) == 0


async def test_resume_repeats_a_release_whose_reply_was_lost_without_double_effect(
    world: World,
) -> None:
    """A release that took effect but lost its reply is repeated harmlessly on resume."""
    world.inventory.lose_release_replies = 1

    with pytest.raises(FailedPrecondition):
        await bounded(world.service.place_order(command(token="tok_decline")))
    assert await bounded(world.service.resume_incomplete()) == 1

    order = await world.service.get_order(await only_order_id(world))
    assert order.state is OrderState.FAILED
    assert world.inventory.stock == INITIAL_STOCK
    assert sum(world.inventory.released.values()) == 2
    assert [t for t, _ in await event_log(world)].count(E.STOCK_RELEASED) == 2


async def test_resume_after_a_crash_mid_reserve_compensates_without_rerunning_steps(
    world: World,
) -> None:
    """After a crash mid-reserve, a restarted service releases the lines and never re-reserves."""
    world.inventory.error_after_reserve = SimulatedCrash()
    with pytest.raises(SimulatedCrash):
        await bounded(world.service.place_order(command()))
    world.inventory.error_after_reserve = None
    world.reopen()

    assert await bounded(world.service.resume_incomplete()) == 1

    order = await world.service.get_order(await only_order_id(world))
    assert order.state is OrderState.FAILED
    assert order.failure is not None
    assert (order.failure.step, order.failure.reason) == ("reserve", "SAGA_INTERRUPTED")
    assert world.inventory.stock == INITIAL_STOCK
    assert (world.inventory.reserve_calls, world.payments.charge_calls) == (1, 0)
    with pytest.raises(Aborted) as replayed:
        await bounded(world.service.place_order(command()))
    assert replayed.value.reason == "SAGA_INTERRUPTED"
    assert world.inventory.reserve_calls == 1


async def test_cancel_order_refunds_and_releases_a_confirmed_order(world: World) -> None:
    """Cancelling a confirmed order refunds it, releases every line and marks it CANCELLED."""
    placed = await bounded(world.service.place_order(command()))

    cancelled = await bounded(world.service.cancel_order(placed.order_id, "changed my mind"))

    assert cancelled.state is OrderState.CANCELLED
    assert world.payments.captured() == 0
    assert world.inventory.stock == INITIAL_STOCK
    assert world.payments.refund_calls == [placed.charge_id]
    assert (await event_log(world))[5:] == [
        (E.REFUNDED, placed.charge_id),
        (E.STOCK_RELEASED, "SKU-00002"),
        (E.STOCK_RELEASED, "SKU-00001"),
        (E.CANCELLED, "changed my mind"),
    ]


async def test_cancel_order_is_idempotent_for_a_cancelled_order(world: World) -> None:
    """Cancelling twice returns the cancelled order and undoes nothing more."""
    placed = await bounded(world.service.place_order(command()))
    first = await bounded(world.service.cancel_order(placed.order_id, ""))

    again = await bounded(world.service.cancel_order(placed.order_id, "again"))

    assert again == first
    assert len(world.payments.refund_calls) == 1
    assert len(world.inventory.release_calls) == 2


async def test_cancel_order_rejects_an_order_that_is_not_confirmed(world: World) -> None:
    """Only confirmed orders can be cancelled; a failed one is ORDER_NOT_CANCELLABLE."""
    with pytest.raises(FailedPrecondition):
        await bounded(world.service.place_order(command(token="tok_decline")))

    with pytest.raises(FailedPrecondition) as caught:
        await bounded(world.service.cancel_order(await only_order_id(world), ""))

    assert caught.value.reason == "ORDER_NOT_CANCELLABLE"


async def test_cancel_order_finishes_on_resume_after_a_failed_refund(world: World) -> None:
    """A cancellation whose refund fails raises, stays CONFIRMED and completes on resume."""
    placed = await bounded(world.service.place_order(command()))
    outage = FailedPrecondition(message="processor down", reason="PROCESSOR_DOWN")
    refund = world.payments.refund

    async def failing_refund(charge_id: str, reason: str) -> None:
        raise outage

    world.payments.refund = failing_refund  # type: ignore[method-assign]
    with pytest.raises(FailedPrecondition) as caught:
        await bounded(world.service.cancel_order(placed.order_id, "too late"))
    assert caught.value is outage
    assert (await world.service.get_order(placed.order_id)).state is OrderState.CONFIRMED

    world.payments.refund = refund  # type: ignore[method-assign]
    assert await bounded(world.service.resume_incomplete()) == 1

    assert (await world.service.get_order(placed.order_id)).state is OrderState.CANCELLED
    assert world.payments.captured() == 0
    assert world.inventory.stock == INITIAL_STOCK
    assert (await event_log(world))[-1] == (E.CANCELLED, "too late")


@pytest.mark.parametrize("order_id", ["", "ord_123", "ORD_0123456789abcdef01234567", "x" * 28])
async def test_get_order_rejects_a_malformed_id(world: World, order_id: str) -> None:
    """A malformed order id is InvalidArgument naming the order_id field."""
    with pytest.raises(InvalidArgument) as caught:
        await world.service.get_order(order_id)

    assert [v.field for v in caught.value.violations] == ["order_id"]


async def test_get_order_reports_an_unknown_id_as_not_found(world: World) -> None:
    """A well-formed id of no order is NotFound with reason ORDER_NOT_FOUND."""
    with pytest.raises(NotFound) as caught:
        await world.service.get_order("ord_" + "0" * 24)

    assert caught.value.reason == "ORDER_NOT_FOUND"
    assert caught.value.resource_type == "order"


def test_skip_stock_release_is_off_unless_the_environment_says_so() -> None:
    """SHOPMESH_ORDERS_SKIP_STOCK_RELEASE=1 turns the broken compensation on; unset, it
    is off; a value that is not a boolean is a configuration error naming it."""
    assert not orders_config_from_env({}).skip_stock_release
    assert orders_config_from_env({"SHOPMESH_ORDERS_SKIP_STOCK_RELEASE": "1"}).skip_stock_release
    with pytest.raises(ConfigError, match="SHOPMESH_ORDERS_SKIP_STOCK_RELEASE"):
        orders_config_from_env({"SHOPMESH_ORDERS_SKIP_STOCK_RELEASE": "maybe"})
