"""PlaceOrder idempotency and validation: one order per key, every violation at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from meshkit.errors import DomainError, FailedPrecondition, InvalidArgument
from services.orders.model import LineItem, OrderEventType, OrderState
from tests.unit.order_fakes import World, bounded, command


async def orders_created(world: World) -> int:
    return sum(e.type is OrderEventType.CREATED for e in await world.service.events_after(0))


async def test_place_order_same_key_twice_returns_the_first_order(world: World) -> None:
    """A sequential retry returns the stored order and calls no dependency again."""
    first = await bounded(world.service.place_order(command()))

    again = await bounded(world.service.place_order(command()))

    assert again == first
    assert await orders_created(world) == 1
    assert (world.catalog.calls, world.inventory.reserve_calls, world.payments.charge_calls) == (
        1,
        1,
        1,
    )


async def test_place_order_same_key_ten_concurrent_calls_place_one_order(world: World) -> None:
    """Ten concurrent calls with one key share one placement and get the very same reply."""
    replies = await bounded(
        asyncio.gather(*(world.service.place_order(command()) for _ in range(10)))
    )

    assert all(reply is replies[0] for reply in replies)
    assert await orders_created(world) == 1
    assert world.payments.charge_calls == 1
    assert len(world.payments.charges) == 1


async def test_place_order_same_key_replays_a_failure_as_an_equal_error(world: World) -> None:
    """A retry of a failed request raises an equal error without a new saga."""
    with pytest.raises(FailedPrecondition) as first:
        await bounded(world.service.place_order(command(token="tok_decline")))

    with pytest.raises(FailedPrecondition) as again:
        await bounded(world.service.place_order(command(token="tok_decline")))

    assert again.value == first.value
    assert again.value.metadata == first.value.metadata
    assert world.payments.charge_calls == 1
    assert await orders_created(world) == 1


async def test_place_order_same_key_concurrent_failures_are_identical(world: World) -> None:
    """Ten concurrent calls of a failing request all raise the one error of one saga."""
    replies = await bounded(
        asyncio.gather(
            *(world.service.place_order(command(token="tok_decline")) for _ in range(10)),
            return_exceptions=True,
        )
    )

    assert isinstance(replies[0], FailedPrecondition)
    assert all(reply is replies[0] for reply in replies)
    assert world.payments.charge_calls == 1


async def test_place_order_same_key_replay_survives_a_restart(world: World) -> None:
    """After a restart, a retry still gets the stored order and places nothing new."""
    first = await bounded(world.service.place_order(command()))
    world.reopen()

    again = await bounded(world.service.place_order(command()))

    assert again == first
    assert world.payments.charge_calls == 1


async def test_place_order_survives_its_caller_going_away(world: World) -> None:
    """Cancelling a waiting caller does not cancel the saga: the order still confirms."""
    world.payments.gate = asyncio.Event()
    caller = asyncio.create_task(world.service.place_order(command()))
    await bounded(world.payments.charging.wait())

    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await bounded(caller)
    world.payments.gate.set()

    order = await bounded(world.service.place_order(command()))
    assert order.state is OrderState.CONFIRMED
    assert world.payments.charge_calls == 1


# R-G50: the same idempotency key with a different request is rejected, never executed.


async def test_place_order_same_key_different_request_is_rejected(world: World) -> None:
    """A stored key sent with another request is IDEMPOTENCY_KEY_REUSED on idempotency_key."""
    await bounded(world.service.place_order(command()))

    with pytest.raises(InvalidArgument) as caught:
        await bounded(world.service.place_order(command(("SKU-00003", 1))))

    assert caught.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert [v.field for v in caught.value.violations] == ["idempotency_key"]
    assert await orders_created(world) == 1


async def test_place_order_same_key_different_request_in_flight_is_rejected(world: World) -> None:
    """A key sent with another request while the first is running is rejected too."""
    replies = await bounded(
        asyncio.gather(
            world.service.place_order(command()),
            world.service.place_order(command(customer_id="someone-else")),
            return_exceptions=True,
        )
    )

    assert not isinstance(replies[0], BaseException)
    assert isinstance(replies[1], InvalidArgument)
    assert replies[1].reason == "IDEMPOTENCY_KEY_REUSED"
    assert await orders_created(world) == 1


async def test_place_order_reports_every_violation_and_writes_nothing(world: World) -> None:
    """An invalid command lists every bad field in one error, before any side effect."""
    bad = replace(
        command(),
        idempotency_key="",
        customer_id="c" * 65,
        items=(
            LineItem("SKU-1", 1),
            LineItem("SKU-00001", 0),
            LineItem("SKU-00002", 1001),
            LineItem("SKU-00001", 1),
        ),
        region="de",
        payment_token="",
    )

    with pytest.raises(InvalidArgument) as caught:
        await bounded(world.service.place_order(bad))

    assert caught.value.reason == "INVALID_ARGUMENT"
    assert [v.field for v in caught.value.violations] == [
        "idempotency_key",
        "customer_id",
        "items[0].sku",
        "items[1].quantity",
        "items[2].quantity",
        "region",
        "payment_token",
        "items[3].sku",
    ]
    assert await world.service.events_after(0) == []
    assert world.catalog.calls == 0


@pytest.mark.parametrize(
    ("items", "field"),
    [((), "items"), (tuple(LineItem(f"SKU-{n:05d}", 1) for n in range(1, 102)), "items")],
)
async def test_place_order_rejects_an_item_count_out_of_range(
    world: World, items: tuple[LineItem, ...], field: str
) -> None:
    """Orders need 1 to 100 items."""
    with pytest.raises(InvalidArgument) as caught:
        await bounded(world.service.place_order(replace(command(), items=items)))

    assert [v.field for v in caught.value.violations] == [field]


async def test_place_order_duplicate_skus_alone_have_reason_duplicate_sku(world: World) -> None:
    """When repeated SKUs are the only problem the reason is DUPLICATE_SKU."""
    with pytest.raises(InvalidArgument) as caught:
        await bounded(world.service.place_order(command(("SKU-00001", 1), ("SKU-00001", 2))))

    assert caught.value.reason == "DUPLICATE_SKU"
    assert [v.field for v in caught.value.violations] == ["items[1].sku"]


async def test_place_order_validation_errors_are_domain_errors_not_stored(world: World) -> None:
    """A rejected command burns no key: the same key then places a valid order."""
    with pytest.raises(DomainError):
        await bounded(world.service.place_order(replace(command(), region="")))

    order = await bounded(world.service.place_order(command()))

    assert order.customer_id == "cust-1"
