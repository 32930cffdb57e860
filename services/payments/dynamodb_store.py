"""Charges in the service's DynamoDB table.

Items (the storage stack's pk/sk contract):

- ``charge#<charge_id>`` / ``meta``: the charge — amount, currency, reference, state,
  create time, refund reason, and its idempotency key;
- ``chargekey#<idempotency_key>`` / ``meta``: ``charge_id`` — written only if absent, in
  the same transaction as the charge, so one key captures money once across every task.
"""

from __future__ import annotations

from meshkit.storage.dynamodb import META, DynamoStore, Table, UnitOfWork, number
from meshkit.storage.times import decode_time, encode_time
from services.kernel.money import Money
from services.payments.domain import ChargeRecord, ChargeRecords, ChargeState


def _charge_pk(charge_id: str) -> str:
    return f"charge#{charge_id}"


def _key_pk(idempotency_key: str) -> str:
    return f"chargekey#{idempotency_key}"


class DynamoPaymentsStore(DynamoStore[ChargeRecords]):
    """Charges in one table."""

    def __init__(self, table: Table) -> None:
        super().__init__(table, DynamoChargeRecords)


class DynamoChargeRecords:
    """ChargeRecords over one unit of work."""

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    def by_id(self, charge_id: str) -> ChargeRecord | None:
        item = self._unit.get(_charge_pk(charge_id))
        if item is None:
            return None
        return ChargeRecord(
            charge_id=charge_id,
            idempotency_key=item["idempotency_key"],
            amount=Money(number(item["amount_minor"]), item["currency"]),
            reference=item["reference"],
            state=ChargeState(item["state"]),
            create_time=decode_time(item["create_time"]),
        )

    def by_key(self, idempotency_key: str) -> ChargeRecord | None:
        pointer = self._unit.get(_key_pk(idempotency_key))
        return None if pointer is None else self.by_id(pointer["charge_id"])

    def add(self, charge: ChargeRecord) -> None:
        self._unit.put(
            {"pk": _key_pk(charge.idempotency_key), "sk": META, "charge_id": charge.charge_id}
        )
        self._unit.put(
            {
                "pk": _charge_pk(charge.charge_id),
                "sk": META,
                "idempotency_key": charge.idempotency_key,
                "amount_minor": charge.amount.amount_minor,
                "currency": charge.amount.currency,
                "reference": charge.reference,
                "state": charge.state.value,
                "create_time": encode_time(charge.create_time),
                "refund_reason": "",
            }
        )

    def mark_refunded(self, charge_id: str, reason: str) -> None:
        pk = _charge_pk(charge_id)
        self._unit.guard(pk, META, "state")  # one refund, whichever task gets there first
        self._unit.set(pk, META, {"state": ChargeState.REFUNDED.value, "refund_reason": reason})
