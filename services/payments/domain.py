"""Charges and refunds against a simulated card processor, idempotent by key."""

from __future__ import annotations

import enum
import itertools
import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from meshkit.errors import FailedPrecondition, FieldViolation, NotFound, Unavailable
from meshkit.storage.contract import Store
from services.kernel.clock import Clock, utc_now
from services.kernel.money import Money
from services.kernel.validation import (
    idempotency_key_reused,
    raise_violations,
    text_violation,
    violation_unless,
)

CHARGE_ID_PATTERN = re.compile(r"^ch_[0-9a-f]{24}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
MAX_TEXT_LENGTH = 200
UNAVAILABLE_RETRY_AFTER_S = 0.1


class ChargeState(enum.Enum):
    """Whether a charge's money was taken or went back."""

    CAPTURED = "CAPTURED"
    REFUNDED = "REFUNDED"


@dataclass(frozen=True)
class ChargeRecord:
    """A captured (possibly since refunded) charge."""

    charge_id: str
    idempotency_key: str
    amount: Money
    reference: str
    state: ChargeState
    create_time: datetime


@dataclass(frozen=True)
class FailurePolicy:
    """How the simulated processor misbehaves, for demos and failure tests.

    ``decline_every``/``unavailable_every`` = n fails every n-th new charge attempt
    (0 never). Unavailability is checked first; both count the same attempts.
    """

    decline_tokens: frozenset[str] = frozenset({"tok_decline"})
    decline_every: int = 0
    unavailable_every: int = 0

    def __post_init__(self) -> None:
        if self.decline_every < 0 or self.unavailable_every < 0:
            raise ValueError("decline_every and unavailable_every must not be negative")


class ChargeRecords(Protocol):
    """Reads and writes inside one unit of a PaymentsStorage."""

    def by_id(self, charge_id: str) -> ChargeRecord | None:
        """The charge with this id, if any."""

    def by_key(self, idempotency_key: str) -> ChargeRecord | None:
        """The charge made under this idempotency key, if any."""

    def add(self, charge: ChargeRecord) -> None:
        """Stores a new charge."""

    def mark_refunded(self, charge_id: str, reason: str) -> None:
        """Records that a charge was refunded, and why."""


PaymentsStorage = Store[ChargeRecords]
"""Where charges live: SQLite locally, DynamoDB on AWS."""


class Payments:
    """Charges over a PaymentsStorage, failing as the FailurePolicy says.

    The attempt counter behind ``decline_every``/``unavailable_every`` lives in memory: it
    restarts at zero with the process, which is all a simulation needs. Only new charges
    count; a replay of a stored charge never reaches the "processor".
    """

    def __init__(
        self, store: PaymentsStorage, policy: FailurePolicy | None = None, clock: Clock = utc_now
    ) -> None:
        self._store = store
        self._policy = policy or FailurePolicy()
        self._clock = clock
        self._attempts = itertools.count(1)  # next() is atomic: calls may run on threads

    async def charge(
        self, idempotency_key: str, amount: Money, payment_token: str, reference: str
    ) -> ChargeRecord:
        """Captures ``amount`` once per idempotency key.

        Repeating a key with the same amount returns the stored charge; with another
        amount it is rejected (IDEMPOTENCY_KEY_REUSED). A declined attempt stores nothing,
        so a retry under the same key is tried afresh.
        """
        _check_charge(idempotency_key, amount, payment_token, reference)
        now = self._clock()

        def charge(records: ChargeRecords) -> ChargeRecord:
            existing = records.by_key(idempotency_key)
            if existing is not None:
                if existing.amount != amount:
                    raise idempotency_key_reused(
                        "idempotency_key",
                        f"a charge of {existing.amount.amount_minor} {existing.amount.currency}",
                    )
                return existing
            self._authorise(payment_token)
            charge = ChargeRecord(
                charge_id=f"ch_{uuid.uuid4().hex[:24]}",
                idempotency_key=idempotency_key,
                amount=amount,
                reference=reference,
                state=ChargeState.CAPTURED,
                create_time=now,
            )
            records.add(charge)
            return charge

        return await self._store.run(charge)

    async def refund(self, charge_id: str, reason: str) -> ChargeRecord:
        """Refunds a charge in full; refunding a refunded charge returns it unchanged."""
        raise_violations([_charge_id_violation(charge_id)])

        def refund(records: ChargeRecords) -> ChargeRecord:
            charge = _charge_of(records, charge_id)
            if charge.state is ChargeState.REFUNDED:
                return charge
            records.mark_refunded(charge_id, reason)
            return replace(charge, state=ChargeState.REFUNDED)

        return await self._store.run(refund)

    async def get(self, charge_id: str) -> ChargeRecord:
        """The charge with this id; InvalidArgument if malformed, NotFound if unknown."""
        raise_violations([_charge_id_violation(charge_id)])
        return await self._store.run(lambda records: _charge_of(records, charge_id), write=False)

    async def find(self, idempotency_key: str) -> ChargeRecord:
        """The charge made under ``idempotency_key``; NotFound if no charge was made."""
        raise_violations([text_violation(idempotency_key, "idempotency_key", MAX_TEXT_LENGTH)])
        charge = await self._store.run(lambda records: records.by_key(idempotency_key), write=False)
        if charge is None:
            raise NotFound(
                message=f"no charge under idempotency key {idempotency_key!r}",
                reason="CHARGE_NOT_FOUND",
                resource_type="charge",
                resource_name=idempotency_key,
            )
        return charge

    def _authorise(self, payment_token: str) -> None:
        # Counts processor attempts: a unit of work run again after a conflict counts again.
        attempt = next(self._attempts)
        policy = self._policy
        if policy.unavailable_every and attempt % policy.unavailable_every == 0:
            raise Unavailable(
                message="the payment processor is unavailable, retry shortly",
                reason="PROCESSOR_UNAVAILABLE",
                retry_after_s=UNAVAILABLE_RETRY_AFTER_S,
            )
        declined_by_turn = policy.decline_every and attempt % policy.decline_every == 0
        if payment_token in policy.decline_tokens or declined_by_turn:
            raise FailedPrecondition(message="the card was declined", reason="PAYMENT_DECLINED")


def _check_charge(idempotency_key: str, amount: Money, payment_token: str, reference: str) -> None:
    raise_violations(
        [
            text_violation(idempotency_key, "idempotency_key", MAX_TEXT_LENGTH),
            violation_unless(amount.amount_minor > 0, "amount", "must be positive"),
            violation_unless(
                bool(CURRENCY_PATTERN.fullmatch(amount.currency)),
                "amount.currency_code",
                "must be three uppercase letters",
            ),
            text_violation(payment_token, "payment_token", MAX_TEXT_LENGTH),
            violation_unless(
                len(reference) <= MAX_TEXT_LENGTH,
                "reference",
                f"must be at most {MAX_TEXT_LENGTH} characters",
            ),
        ]
    )


def _charge_id_violation(charge_id: str) -> FieldViolation | None:
    return violation_unless(
        bool(CHARGE_ID_PATTERN.fullmatch(charge_id)),
        "charge_id",
        "must look like ch_ followed by 24 hex digits",
    )


def _charge_of(records: ChargeRecords, charge_id: str) -> ChargeRecord:
    charge = records.by_id(charge_id)
    if charge is None:
        raise NotFound(
            message=f"charge {charge_id} does not exist",
            reason="CHARGE_NOT_FOUND",
            resource_type="charge",
            resource_name=charge_id,
        )
    return charge
