"""The orders service: idempotent placement, cancellation, lookups and the event feed.

One Orders owns its store: idempotency between concurrent requests is kept in this
process (a map of in-flight placements and a lock per order) on top of the durable
records, so two processes must not share a SQLite file or a DynamoDB table (on AWS the
orders service runs as one task; see the manifest's ``single_task``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from functools import partial

from meshkit.errors import FailedPrecondition, NotFound
from services.kernel.clock import Clock, utc_now
from services.kernel.money import Money
from services.kernel.validation import (
    idempotency_key_reused,
    raise_violations,
    violation_unless,
)
from services.orders.events import EventFeed
from services.orders.locks import KeyedLocks
from services.orders.model import (
    Order,
    OrderEvent,
    OrderEventType,
    OrderLine,
    OrderState,
    PlaceOrder,
    new_order_id,
    reservation_key,
)
from services.orders.ports import CatalogPort, InventoryPort, PaymentsPort, PricingPort
from services.orders.records import IdempotencyRecord, OrderRecords, OrderStorage
from services.orders.saga import OrderSaga
from services.orders.validation import (
    MAX_TEXT_LENGTH,
    order_id_violation,
    validate_order_id,
    validate_place_order,
)


class Orders:
    """Places orders through the saga and answers for them; transport-free."""

    def __init__(
        self,
        store: OrderStorage,
        catalog: CatalogPort,
        pricing: PricingPort,
        inventory: InventoryPort,
        payments: PaymentsPort,
        *,
        clock: Clock = utc_now,
        skip_stock_release: bool = False,
    ) -> None:
        self._store = store
        self._clock = clock
        self._saga = OrderSaga(
            store, catalog, pricing, inventory, payments, clock, skip_stock_release
        )
        self._feed = EventFeed(store)
        self._locks = KeyedLocks()
        # Idempotency key -> (request fingerprint, the placement every caller awaits).
        self._placing: dict[str, tuple[str, asyncio.Task[Order]]] = {}

    async def place_order(self, command: PlaceOrder) -> Order:
        """Places an order and returns it CONFIRMED, or raises why it failed.

        Idempotent by key: a retry of the same request gets the first outcome (the order,
        or an equal error), concurrent retries share one placement, and the same key with
        a different request is IDEMPOTENCY_KEY_REUSED. Invalid commands are rejected with
        every violation listed before anything is written.
        """
        validate_place_order(command)
        fingerprint = command.fingerprint()
        key = command.idempotency_key
        if key not in self._placing:
            task = asyncio.create_task(self._place(command, fingerprint))
            self._placing[key] = (fingerprint, task)
            task.add_done_callback(partial(self._placed, key))
        placing_fingerprint, task = self._placing[key]
        if placing_fingerprint != fingerprint:
            raise idempotency_key_reused("idempotency_key", "an order in progress")
        # Shielded: a caller that goes away must not cancel the saga others wait for.
        return await asyncio.shield(task)

    async def cancel_order(self, order_id: str, reason: str) -> Order:
        """Cancels a CONFIRMED order: refund, release every line, state CANCELLED.

        Cancelling a CANCELLED order returns it; any other state is ORDER_NOT_CANCELLABLE.
        If an undo call fails, its error is raised and the order stays CONFIRMED until a
        retry or ``resume_incomplete`` finishes the cancellation.
        """
        raise_violations(
            [
                order_id_violation(order_id),
                violation_unless(
                    len(reason) <= MAX_TEXT_LENGTH,
                    "reason",
                    f"must be at most {MAX_TEXT_LENGTH} characters",
                ),
            ]
        )
        async with self._locks.hold(order_id):
            order = await self.get_order(order_id)
            if order.state is OrderState.CANCELLED:
                return order
            if order.state is not OrderState.CONFIRMED:
                raise FailedPrecondition(
                    message=f"order {order_id} is {order.state.value}; only CONFIRMED can cancel",
                    reason="ORDER_NOT_CANCELLABLE",
                    metadata={"order_id": order_id, "state": order.state.value},
                )
            await self._saga.start_cancellation(order_id, reason)
            await self._saga.settle(order_id)
        return await self.get_order(order_id)

    async def get_order(self, order_id: str) -> Order:
        """The order; InvalidArgument if the id is malformed, NotFound if unknown."""
        validate_order_id(order_id)
        order = await self._store.run(lambda records: records.order(order_id), write=False)
        if order is None:
            raise NotFound(
                message=f"order {order_id} does not exist",
                reason="ORDER_NOT_FOUND",
                resource_type="order",
                resource_name=order_id,
            )
        return order

    async def events_after(
        self, after_sequence: int, order_id: str = "", limit: int | None = None
    ) -> list[OrderEvent]:
        """Stored events with a sequence above ``after_sequence``, of one order or all."""
        _check_event_query(after_sequence, order_id)
        return await self._store.run(
            lambda records: records.events(after_sequence, order_id, limit=limit), write=False
        )

    def watch(self, after_sequence: int, order_id: str = "") -> AsyncGenerator[OrderEvent, None]:
        """Stored events after ``after_sequence``, then live ones, until the consumer stops.

        The arguments are checked now, so a bad request fails before streaming starts.
        """
        _check_event_query(after_sequence, order_id)
        return self._feed.follow(after_sequence, order_id)

    async def resume_incomplete(self) -> int:
        """Finishes, by compensation, every saga left unfinished; returns how many.

        Meant for start-up and a periodic sweep. Sagas this process is running right now
        are skipped; a saga whose undo fails again stays for the next sweep.
        """
        order_ids = await self._store.run(lambda records: records.saga.unfinished(), write=False)
        finished = 0
        for order_id in order_ids:
            if self._locks.held(order_id):
                continue
            async with self._locks.hold(order_id):
                if await self._saga.try_settle(order_id):
                    finished += 1
        return finished

    async def _place(self, command: PlaceOrder, fingerprint: str) -> Order:
        key = command.idempotency_key
        known = await self._store.run(lambda records: records.idempotency_key(key), write=False)
        if known is not None:
            if known.fingerprint != fingerprint:
                raise idempotency_key_reused("idempotency_key", f"order {known.order_id}")
            return await self._replay(known.order_id)
        order_id = new_order_id()
        async with self._locks.hold(order_id):
            await self._create(order_id, command, fingerprint)
            await self._saga.run(order_id, command)
        return await self.get_order(order_id)

    async def _create(self, order_id: str, command: PlaceOrder, fingerprint: str) -> None:
        now = self._clock()
        lines = tuple(
            OrderLine(item.sku, "", item.quantity, Money.zero(), reservation_key(order_id, index))
            for index, item in enumerate(command.items)
        )
        order = Order(
            order_id=order_id,
            customer_id=command.customer_id,
            state=OrderState.PENDING,
            lines=lines,
            total=Money.zero(),
            charge_id="",
            failure=None,
            create_time=now,
            update_time=now,
        )

        def create(records: OrderRecords) -> None:
            records.add_order(order)
            records.add_idempotency_key(
                command.idempotency_key, IdempotencyRecord(fingerprint, order_id)
            )
            records.saga.start(order_id)
            records.append_event(order_id, OrderEventType.CREATED, now, command.customer_id)

        await self._store.run(create)

    async def _replay(self, order_id: str) -> Order:
        """The first outcome of an order placed before, finishing its saga if it must."""
        async with self._locks.hold(order_id):
            await self._saga.try_settle(order_id)
        saga = await self._store.run(lambda records: records.saga.get(order_id), write=False)
        if saga is not None and saga.error is not None:
            raise saga.error
        return await self.get_order(order_id)

    def _placed(self, key: str, task: asyncio.Task[Order]) -> None:
        del self._placing[key]
        if not task.cancelled():
            # Mark the outcome as seen: every caller may have gone away already.
            task.exception()


def _check_event_query(after_sequence: int, order_id: str) -> None:
    raise_violations(
        [
            violation_unless(after_sequence >= 0, "after_sequence", "must not be negative"),
            order_id_violation(order_id) if order_id else None,
        ]
    )
