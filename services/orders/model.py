"""Orders, their lines, events and the PlaceOrder command."""

from __future__ import annotations

import enum
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from services.kernel.money import Money

ORDER_ID_PATTERN = re.compile(r"^ord_[0-9a-f]{24}$")


class OrderState(enum.Enum):
    """Lifecycle of an order."""

    PENDING = "PENDING"  # the saga is running or compensating
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"  # a step failed and every completed step was compensated
    CANCELLED = "CANCELLED"


class OrderEventType(enum.Enum):
    """Kinds of order event, one per saga step or compensation."""

    CREATED = "CREATED"
    QUOTED = "QUOTED"
    RESERVED = "RESERVED"
    CHARGED = "CHARGED"
    CONFIRMED = "CONFIRMED"
    STOCK_RELEASED = "STOCK_RELEASED"
    REFUNDED = "REFUNDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class SagaStep(enum.StrEnum):
    """The forward steps of the order saga, in order; the value is OrderFailure.step."""

    LOOKUP = "lookup"
    QUOTE = "quote"
    RESERVE = "reserve"
    CHARGE = "charge"
    CONFIRM = "confirm"


@dataclass(frozen=True)
class LineItem:
    """An item of a PlaceOrder command."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class PlaceOrder:
    """The command to place an order; retries repeat ``idempotency_key``."""

    idempotency_key: str
    customer_id: str
    items: tuple[LineItem, ...]
    region: str
    promo_code: str
    payment_token: str

    def fingerprint(self) -> str:
        """A stable hash of everything but the key: equal for a retry of the same request."""
        canonical = json.dumps(
            [
                self.customer_id,
                [[item.sku, item.quantity] for item in self.items],
                self.region,
                self.promo_code,
                self.payment_token,
            ],
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class OrderLine:
    """A line of an order; name and total are filled in by the lookup and quote steps."""

    sku: str
    name: str
    quantity: int
    total: Money
    reservation_key: str


@dataclass(frozen=True)
class OrderFailure:
    """Which saga step failed, and why."""

    step: str
    reason: str
    message: str


@dataclass(frozen=True)
class Order:
    """An order; ``failure`` is set only when the state is FAILED."""

    order_id: str
    customer_id: str
    state: OrderState
    lines: tuple[OrderLine, ...]
    total: Money
    charge_id: str
    failure: OrderFailure | None
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True)
class OrderEvent:
    """An entry of the global event log; sequences start at 1 and have no gaps."""

    sequence: int
    order_id: str
    type: OrderEventType
    detail: str
    create_time: datetime


def new_order_id() -> str:
    """A fresh order id: "ord_" and 24 hex digits."""
    return f"ord_{uuid.uuid4().hex[:24]}"


def reservation_key(order_id: str, line_index: int) -> str:
    """The inventory idempotency key of one order line."""
    return f"{order_id}/{line_index}"


def charge_key(order_id: str) -> str:
    """The payments idempotency key of an order's charge."""
    return f"{order_id}/charge"
