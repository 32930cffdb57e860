"""Charges and refunds on SQLite and DynamoDB: idempotency, the failure policy, persistence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from meshkit.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from services.kernel.money import Money
from services.payments.domain import (
    CHARGE_ID_PATTERN,
    ChargeState,
    FailurePolicy,
    Payments,
    PaymentsStorage,
)
from services.payments.dynamodb_store import DynamoPaymentsStore
from services.payments.sqlite_store import SqlitePaymentsStore

AMOUNT = Money(1999, "EUR")


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[PaymentsStorage]:
    """Every test runs on both stores: SQLite, and DynamoDB on a local moto server."""
    store: PaymentsStorage
    if request.param == "sqlite":
        store = SqlitePaymentsStore(":memory:")
    else:
        store = DynamoPaymentsStore(request.getfixturevalue("dynamo_table"))
    yield store
    store.close()


@pytest.fixture
def payments(store: PaymentsStorage) -> Payments:
    return Payments(store)


async def test_charge_captures_and_returns_the_record(payments: Payments) -> None:
    """A charge is CAPTURED with a "ch_" + 24 hex id and the caller's details."""
    charge = await payments.charge("key-1", AMOUNT, "tok_visa", "ord_1")

    assert CHARGE_ID_PATTERN.fullmatch(charge.charge_id)
    assert (charge.idempotency_key, charge.amount, charge.reference) == ("key-1", AMOUNT, "ord_1")
    assert charge.state is ChargeState.CAPTURED
    assert await payments.get(charge.charge_id) == charge


async def test_charge_same_key_returns_the_stored_charge_without_a_new_attempt(
    store: PaymentsStorage,
) -> None:
    """A repeated key returns the first charge and is not counted as a processor attempt."""
    payments = Payments(store, FailurePolicy(decline_every=2))
    first = await payments.charge("key-1", AMOUNT, "tok_visa", "ord_1")

    assert await payments.charge("key-1", AMOUNT, "tok_visa", "ord_1") == first
    with pytest.raises(FailedPrecondition):
        await payments.charge("key-2", AMOUNT, "tok_visa", "ord_2")  # the 2nd attempt


async def test_charge_same_key_different_amount_is_rejected(payments: Payments) -> None:
    """A key reused with another amount or currency is IDEMPOTENCY_KEY_REUSED."""
    await payments.charge("key-1", AMOUNT, "tok_visa", "ord_1")

    for amount in (Money(2000, "EUR"), Money(1999, "USD")):
        with pytest.raises(InvalidArgument) as caught:
            await payments.charge("key-1", amount, "tok_visa", "ord_1")
        assert caught.value.reason == "IDEMPOTENCY_KEY_REUSED"
        assert [v.field for v in caught.value.violations] == ["idempotency_key"]


async def test_charge_declined_token_stores_nothing_and_a_retry_is_tried_again(
    payments: Payments,
) -> None:
    """A declined attempt leaves no charge; the same key with a good token then succeeds."""
    with pytest.raises(FailedPrecondition) as caught:
        await payments.charge("key-1", AMOUNT, "tok_decline", "ord_1")
    assert caught.value.reason == "PAYMENT_DECLINED"

    charge = await payments.charge("key-1", AMOUNT, "tok_visa", "ord_1")

    assert charge.state is ChargeState.CAPTURED


async def test_charge_decline_every_nth_declines_exactly_those(store: PaymentsStorage) -> None:
    """decline_every=3 declines the 3rd and 6th new attempts only."""
    payments = Payments(store, FailurePolicy(decline_every=3))
    outcomes = []
    for n in range(1, 7):
        try:
            await payments.charge(f"key-{n}", AMOUNT, "tok_visa", "")
            outcomes.append("ok")
        except FailedPrecondition:
            outcomes.append("declined")

    assert outcomes == ["ok", "ok", "declined", "ok", "ok", "declined"]


async def test_charge_unavailable_every_nth_raises_retryable_unavailable(
    store: PaymentsStorage,
) -> None:
    """unavailable_every=2 fails the 2nd attempt with a retry hint, then the retry succeeds."""
    payments = Payments(store, FailurePolicy(unavailable_every=2))
    await payments.charge("key-1", AMOUNT, "tok_visa", "")

    with pytest.raises(Unavailable) as caught:
        await payments.charge("key-2", AMOUNT, "tok_visa", "")

    assert caught.value.reason == "PROCESSOR_UNAVAILABLE"
    assert caught.value.retry_after_s == 0.1
    assert (await payments.charge("key-2", AMOUNT, "tok_visa", "")).state is ChargeState.CAPTURED


async def test_charge_reports_every_bad_field(payments: Payments) -> None:
    """Key, amount, currency and token problems come back together."""
    with pytest.raises(InvalidArgument) as caught:
        await payments.charge("", Money(0, "eur"), "", "")

    assert [v.field for v in caught.value.violations] == [
        "idempotency_key",
        "amount",
        "amount.currency_code",
        "payment_token",
    ]


async def test_refund_is_idempotent(payments: Payments) -> None:
    """Refunding twice returns the same REFUNDED record."""
    charge = await payments.charge("key-1", AMOUNT, "tok_visa", "ord_1")

    first = await payments.refund(charge.charge_id, "customer asked")
    second = await payments.refund(charge.charge_id, "again")

    assert first == second
    assert first.state is ChargeState.REFUNDED
    assert await payments.get(charge.charge_id) == first


async def test_refund_unknown_charge_is_not_found(payments: Payments) -> None:
    """A well-formed id of no charge is CHARGE_NOT_FOUND."""
    with pytest.raises(NotFound) as caught:
        await payments.refund("ch_" + "0" * 24, "")

    assert caught.value.reason == "CHARGE_NOT_FOUND"


@pytest.mark.parametrize("charge_id", ["", "ch_123", "CH_" + "0" * 24])
async def test_get_rejects_a_malformed_charge_id(payments: Payments, charge_id: str) -> None:
    """Malformed charge ids are InvalidArgument on charge_id."""
    with pytest.raises(InvalidArgument) as caught:
        await payments.get(charge_id)

    assert [v.field for v in caught.value.violations] == ["charge_id"]


async def test_charges_survive_a_reopen(tmp_path: Path) -> None:
    """A charge made before a restart is found, and replayed by key, after it."""
    path = tmp_path / "payments.db"
    store = SqlitePaymentsStore(path)
    charge = await Payments(store).charge("key-1", AMOUNT, "tok_visa", "ord_1")
    store.close()

    reopened = SqlitePaymentsStore(path)
    try:
        payments = Payments(reopened)
        assert await payments.get(charge.charge_id) == charge
        assert await payments.charge("key-1", AMOUNT, "tok_visa", "ord_1") == charge
    finally:
        reopened.close()


async def test_find_by_key_returns_the_charge_made_under_it(payments: Payments) -> None:
    """A charge can be found by its idempotency key; a key never charged is NotFound."""
    charge = await payments.charge("order-7/charge", Money(1250), "tok_visa", "order-7")
    assert await payments.find("order-7/charge") == charge
    with pytest.raises(NotFound) as caught:
        await payments.find("order-8/charge")
    assert caught.value.reason == "CHARGE_NOT_FOUND"
