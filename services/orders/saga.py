"""The order saga: lookup, quote, reserve, charge, confirm; compensated newest first.

Every step ends with one unit of work of the store that records its outcome, its event
and the next step together. Effects that must be undone on failure (reservations, the charge) go to
the saga log; reservations are logged as in doubt *before* the call, so a call that
raised, or a process that died mid-call, still gets them released. Compensation calls
are idempotent downstream, so repeating one after a crash is harmless; forward steps are
never repeated.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import NoReturn

from meshkit.errors import (
    Aborted,
    DomainError,
    FailedPrecondition,
    Internal,
    NotFound,
)
from services.kernel.clock import Clock
from services.orders.model import (
    Order,
    OrderEventType,
    OrderState,
    PlaceOrder,
    SagaStep,
    charge_key,
    reservation_key,
)
from services.orders.ports import (
    CatalogPort,
    InventoryPort,
    PaymentsPort,
    PricingPort,
    ReservationRequest,
)
from services.orders.records import OrderRecords, OrderStorage
from services.orders.saga_log import Effect, EffectKind, EffectState, SagaRecord, SagaStatus

logger = logging.getLogger(__name__)

Step = Callable[[str, PlaceOrder], Awaitable[None]]


class OrderSaga:
    """Runs, compensates and finishes the sagas of one store's orders."""

    def __init__(
        self,
        store: OrderStorage,
        catalog: CatalogPort,
        pricing: PricingPort,
        inventory: InventoryPort,
        payments: PaymentsPort,
        clock: Clock,
        skip_stock_release: bool = False,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._pricing = pricing
        self._inventory = inventory
        self._payments = payments
        self._clock = clock
        self._skip_stock_release = skip_stock_release
        """Fault injection (SHOPMESH_ORDERS_SKIP_STOCK_RELEASE): a broken compensation."""

    async def run(self, order_id: str, command: PlaceOrder) -> None:
        """Runs the forward steps of a created order, through to CONFIRMED.

        On failure it undoes every logged effect, marks the order FAILED and raises the
        original error: a DomainError as a copy with metadata "order_id", anything else as
        it is. If an undo call fails, the order stays PENDING (saga COMPENSATING) for
        ``settle`` to finish later, and the original error is raised all the same.
        """
        steps: tuple[tuple[SagaStep, Step], ...] = (
            (SagaStep.LOOKUP, self._lookup),
            (SagaStep.QUOTE, self._quote),
            (SagaStep.RESERVE, self._reserve),
            (SagaStep.CHARGE, self._charge),
            (SagaStep.CONFIRM, self._confirm),
        )
        for step, forward in steps:
            try:
                await forward(order_id, command)
            except Exception as exc:
                await self._fail(order_id, step, exc)

    async def start_cancellation(self, order_id: str, reason: str) -> None:
        """Logs the cancellation of a confirmed order, unless one is already under way."""

        def cancel(records: OrderRecords) -> None:
            saga = records.saga.get(order_id)
            if saga is not None and saga.status is SagaStatus.DONE:
                records.saga.cancel(order_id, reason)

        await self._store.run(cancel)

    async def settle(self, order_id: str) -> bool:
        """Finishes an unfinished saga by compensation alone; False if it was finished.

        A saga found RUNNING was interrupted (its process died mid-step): it fails with
        SAGA_INTERRUPTED. Raises what an undo call raises; the log keeps what was undone.
        """
        saga = await self._saga(order_id)
        if saga.status is SagaStatus.DONE:
            return False
        if saga.status is SagaStatus.RUNNING:
            interrupted = _interrupted(order_id, saga.step)
            await self._store.run(lambda records: records.saga.fail(order_id, interrupted))
            saga = await self._saga(order_id)
        await self._compensate(saga)
        now = self._clock()

        def finish(records: OrderRecords) -> None:
            if saga.status is SagaStatus.CANCELLING:
                records.set_state(order_id, OrderState.CANCELLED, now)
                records.append_event(order_id, OrderEventType.CANCELLED, now, saga.cancel_reason)
            else:
                failure = saga.failure
                records.set_state(order_id, OrderState.FAILED, now, failure)
                detail = failure.message if failure else ""
                records.append_event(order_id, OrderEventType.FAILED, now, detail)
            records.saga.finish(order_id)

        await self._store.run(finish)
        return True

    async def try_settle(self, order_id: str) -> bool:
        """``settle``, logging rather than raising a failed undo; True if it finished."""
        try:
            return await self.settle(order_id)
        except Exception:
            logger.warning("order %s: compensation failed, will retry", order_id, exc_info=True)
            return False

    async def _fail(self, order_id: str, step: SagaStep, exc: Exception) -> NoReturn:
        error = _reported(exc, order_id, step)
        await self._store.run(lambda records: records.saga.fail(order_id, error))
        await self.try_settle(order_id)
        if isinstance(exc, DomainError):
            raise error from exc
        raise exc

    async def _compensate(self, saga: SagaRecord) -> None:
        if saga.status is SagaStatus.CANCELLING:
            reason = saga.cancel_reason or "order cancelled"
        else:
            reason = f"order failed: {saga.error.reason if saga.error else 'unknown'}"
        order_id = saga.order_id
        effects = await self._store.run(lambda records: records.saga.to_undo(order_id), write=False)
        for effect in effects:
            detail = await self._undo(effect, reason)
            await self._store.run(partial(_compensated, order_id, effect, detail, self._clock()))

    async def _undo(self, effect: Effect, reason: str) -> str | None:
        """Undoes one effect downstream; returns the event detail, None if nothing was there.

        A charge is found by its idempotency key first, so one whose reply was lost is
        refunded too; a reservation in doubt that was never made has nothing to release.
        """
        try:
            if effect.kind is EffectKind.CHARGE:
                charge_id = await self._payments.find_charge(effect.target)
                if charge_id is None:
                    return None
                await self._payments.refund(charge_id, reason)
                return charge_id
            if self._skip_stock_release:
                # Claims the release without making it: the stock stays held for an order
                # that failed, which the chaos suite's invariants must report.
                return effect.sku
            await self._inventory.release(effect.target)
        except NotFound:
            return None
        return effect.sku

    async def _lookup(self, order_id: str, command: PlaceOrder) -> None:
        products = await self._catalog.get_products([item.sku for item in command.items])
        for index, item in enumerate(command.items):
            product = products.get(item.sku)
            if product is None:
                raise NotFound(
                    message=f"product {item.sku} does not exist",
                    reason="PRODUCT_NOT_FOUND",
                    metadata={"field": f"items[{index}].sku", "sku": item.sku},
                    resource_type="product",
                    resource_name=item.sku,
                )
            if not product.active:
                raise FailedPrecondition(
                    message=f"product {item.sku} can no longer be ordered",
                    reason="PRODUCT_INACTIVE",
                    metadata={"field": f"items[{index}].sku", "sku": item.sku},
                )
        now = self._clock()
        names = [products[item.sku].name for item in command.items]

        def named(records: OrderRecords) -> None:
            records.name_lines(order_id, names, now)
            records.saga.advance(order_id, SagaStep.QUOTE)

        await self._store.run(named)

    async def _quote(self, order_id: str, command: PlaceOrder) -> None:
        lines = await self._pricing.quote(command.items, command.region, command.promo_code)
        _expect_answers(
            "pricing", [item.sku for item in command.items], [line.sku for line in lines]
        )
        now = self._clock()

        def priced(records: OrderRecords) -> None:
            records.price_lines(order_id, [line.total for line in lines], now)
            records.saga.advance(order_id, SagaStep.RESERVE)
            records.append_event(order_id, OrderEventType.QUOTED, now)

        await self._store.run(priced)

    async def _reserve(self, order_id: str, command: PlaceOrder) -> None:
        requests = [
            ReservationRequest(reservation_key(order_id, index), item.sku, item.quantity)
            for index, item in enumerate(command.items)
        ]
        keys = [request.reservation_key for request in requests]
        targets = [(request.reservation_key, request.sku) for request in requests]
        await self._store.run(
            lambda records: records.saga.add_effects(
                order_id, EffectKind.RESERVATION, targets, EffectState.IN_DOUBT
            )
        )
        outcomes = await self._inventory.reserve(requests)
        _expect_answers("inventory", keys, [outcome.reservation_key for outcome in outcomes])
        errors = [outcome.error for outcome in outcomes if outcome.error is not None]
        now = self._clock()

        def settled(records: OrderRecords) -> None:
            records.saga.settle_doubts(
                order_id,
                made=[o.reservation_key for o in outcomes if o.error is None],
                not_made=[o.reservation_key for o in outcomes if o.error is not None],
            )
            if not errors:
                records.saga.advance(order_id, SagaStep.CHARGE)
                records.append_event(order_id, OrderEventType.RESERVED, now)

        await self._store.run(settled)
        if errors:
            raise errors[0]

    async def _charge(self, order_id: str, command: PlaceOrder) -> None:
        total = (await self._order(order_id)).total
        key = charge_key(order_id)
        # Logged before the call, by idempotency key: if the reply is lost (timeout,
        # crash), compensation asks payments what happened under this key and refunds.
        await self._store.run(
            lambda records: records.saga.add_effects(
                order_id, EffectKind.CHARGE, [(key, "")], EffectState.IN_DOUBT
            )
        )
        charge_id = await self._payments.charge(key, total, command.payment_token, order_id)
        now = self._clock()

        def charged(records: OrderRecords) -> None:
            records.saga.settle_doubts(order_id, made=[key], not_made=[])
            records.set_charge(order_id, charge_id, now)
            records.saga.advance(order_id, SagaStep.CONFIRM)
            records.append_event(order_id, OrderEventType.CHARGED, now, charge_id)

        await self._store.run(charged)

    async def _confirm(self, order_id: str, command: PlaceOrder) -> None:
        now = self._clock()

        def confirmed(records: OrderRecords) -> None:
            records.set_state(order_id, OrderState.CONFIRMED, now)
            records.saga.finish(order_id)
            records.append_event(order_id, OrderEventType.CONFIRMED, now)

        await self._store.run(confirmed)

    async def _order(self, order_id: str) -> Order:
        order = await self._store.run(lambda records: records.order(order_id), write=False)
        if order is None:
            raise LookupError(f"order {order_id} vanished from the store")
        return order

    async def _saga(self, order_id: str) -> SagaRecord:
        saga = await self._store.run(lambda records: records.saga.get(order_id), write=False)
        if saga is None:
            raise LookupError(f"order {order_id} has no saga")
        return saga


def _compensated(
    order_id: str, effect: Effect, detail: str | None, now: datetime, records: OrderRecords
) -> None:
    """Marks an undone effect, with a REFUNDED/STOCK_RELEASED event if something was undone."""
    records.saga.mark_compensated(order_id, effect.effect_id)
    if detail is not None:
        kind = (
            OrderEventType.REFUNDED
            if effect.kind is EffectKind.CHARGE
            else OrderEventType.STOCK_RELEASED
        )
        records.append_event(order_id, kind, now, detail)


def _reported(exc: Exception, order_id: str, step: SagaStep) -> DomainError:
    """The error a failed step reports, and that retries of the request replay."""
    if isinstance(exc, DomainError):
        return replace(exc, metadata={**exc.metadata, "order_id": order_id})
    # Never put an unexpected exception's text on the wire; the caller logs it.
    return Internal(
        message=f"unexpected error in the {step} step",
        reason="INTERNAL",
        metadata={"order_id": order_id},
    )


def _interrupted(order_id: str, step: SagaStep) -> Aborted:
    message = f"the order saga was interrupted in the {step} step"
    if step is SagaStep.CHARGE:
        # Without the charge id the saga cannot refund; a person must look.
        message += f"; reconcile payments under idempotency key {charge_key(order_id)}"
    return Aborted(message=message, reason="SAGA_INTERRUPTED", metadata={"order_id": order_id})


def _expect_answers(port: str, asked: Sequence[str], answered: Sequence[str]) -> None:
    """Guards the contract that batch answers come one per request, in request order."""
    if list(asked) != list(answered):
        raise Internal(
            message=f"{port} answered for other items than it was asked",
            reason="MISMATCHED_REPLY",
        )
