"""The saga log: each order's saga status and the downstream effects still to undo.

It is what lets a restarted process finish a saga: the log says which step was running
and which reservations and charges exist, and compensation marks each effect as undone
right after undoing it. Forward steps are never re-run from the log.

This module holds the log's types; the SQLite store keeps the log as rows
(sqlite_saga_log.py), the DynamoDB store in each order's saga item (dynamodb_store.py).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

from meshkit.errors import ERROR_KINDS, DomainError, FieldViolation
from services.orders.model import OrderFailure, SagaStep


class SagaStatus(enum.Enum):
    """Where a saga is."""

    RUNNING = "RUNNING"  # forward steps in progress
    COMPENSATING = "COMPENSATING"  # a step failed; undoing effects, then FAILED
    CANCELLING = "CANCELLING"  # a confirmed order is being cancelled; then CANCELLED
    DONE = "DONE"


class EffectKind(enum.Enum):
    """A downstream effect that compensation undoes."""

    RESERVATION = "RESERVATION"  # undone by releasing the reservation key
    CHARGE = "CHARGE"  # undone by refunding the charge made under the idempotency key


class EffectState(enum.Enum):
    """What the saga knows about an effect."""

    IN_DOUBT = "IN_DOUBT"  # requested, outcome unknown (the call raised or the process died)
    DONE = "DONE"
    COMPENSATED = "COMPENSATED"


@dataclass(frozen=True)
class Effect:
    """One logged effect; ``target`` is the reservation key or the charge's idempotency key."""

    effect_id: int
    kind: EffectKind
    target: str
    sku: str
    state: EffectState


@dataclass(frozen=True)
class SagaRecord:
    """One order's saga; ``error`` is set once a step failed."""

    order_id: str
    status: SagaStatus
    step: SagaStep
    error: DomainError | None
    cancel_reason: str

    @property
    def failure(self) -> OrderFailure | None:
        """The OrderFailure the order gets when the saga ends failed."""
        if self.error is None:
            return None
        return OrderFailure(self.step.value, self.error.reason, self.error.message)


def encode_error(error: DomainError) -> str:
    """Serialises a DomainError so a replay can raise an equal one."""
    return json.dumps(
        {
            "kind": error.kind,
            "message": error.message,
            "reason": error.reason,
            "metadata": dict(error.metadata),
            "violations": [[v.field, v.description] for v in error.violations],
            "resource_type": error.resource_type,
            "resource_name": error.resource_name,
            "retry_after_s": error.retry_after_s,
        }
    )


def decode_error(text: str) -> DomainError:
    """Rebuilds the DomainError that encode_error wrote, of the same class."""
    data = json.loads(text)
    return ERROR_KINDS[data["kind"]](
        message=data["message"],
        reason=data["reason"],
        metadata=data["metadata"],
        violations=tuple(FieldViolation(*pair) for pair in data["violations"]),
        resource_type=data["resource_type"],
        resource_name=data["resource_name"],
        retry_after_s=data["retry_after_s"],
    )
