"""Request checks of the orders service, each reporting every bad field at once."""

from __future__ import annotations

import re

from meshkit.errors import FieldViolation
from services.kernel.seed import sku_violation
from services.kernel.validation import (
    raise_violations,
    range_violation,
    text_violation,
    violation_unless,
)
from services.orders.model import ORDER_ID_PATTERN, PlaceOrder

MAX_IDEMPOTENCY_KEY_LENGTH = 128
MAX_CUSTOMER_ID_LENGTH = 64
MAX_ITEMS = 100
MAX_QUANTITY = 1000
MAX_TEXT_LENGTH = 200  # payment tokens, promo codes, cancellation reasons
REGION_PATTERN = re.compile(r"^[A-Z]{2}$")


def validate_place_order(command: PlaceOrder) -> None:
    """Raises one InvalidArgument listing every problem of the command.

    The reason is DUPLICATE_SKU when repeated SKUs are the only problem, else
    INVALID_ARGUMENT; either way every violation is listed.
    """
    violations = [
        text_violation(command.idempotency_key, "idempotency_key", MAX_IDEMPOTENCY_KEY_LENGTH),
        text_violation(command.customer_id, "customer_id", MAX_CUSTOMER_ID_LENGTH),
        range_violation(len(command.items), "items", 1, MAX_ITEMS),
    ]
    duplicates: list[FieldViolation] = []
    if len(command.items) <= MAX_ITEMS:
        seen: set[str] = set()
        for index, item in enumerate(command.items):
            violations.append(sku_violation(item.sku, f"items[{index}].sku"))
            violations.append(
                range_violation(item.quantity, f"items[{index}].quantity", 1, MAX_QUANTITY)
            )
            if item.sku in seen:
                duplicates.append(
                    FieldViolation(f"items[{index}].sku", f"{item.sku} is already ordered")
                )
            seen.add(item.sku)
    violations += [
        violation_unless(
            bool(REGION_PATTERN.fullmatch(command.region)),
            "region",
            "must be an ISO 3166-1 alpha-2 code like DE",
        ),
        violation_unless(
            len(command.promo_code) <= MAX_TEXT_LENGTH,
            "promo_code",
            f"must be at most {MAX_TEXT_LENGTH} characters",
        ),
        text_violation(command.payment_token, "payment_token", MAX_TEXT_LENGTH),
    ]
    only_duplicates = bool(duplicates) and not any(violations)
    raise_violations(
        [*violations, *duplicates],
        reason="DUPLICATE_SKU" if only_duplicates else "INVALID_ARGUMENT",
    )


def order_id_violation(order_id: str, field: str = "order_id") -> FieldViolation | None:
    """The violation unless ``order_id`` looks like "ord_" + 24 hex digits."""
    return violation_unless(
        bool(ORDER_ID_PATTERN.fullmatch(order_id)),
        field,
        "must look like ord_ followed by 24 hex digits",
    )


def validate_order_id(order_id: str) -> None:
    """Raises InvalidArgument naming "order_id" unless the id is well formed."""
    raise_violations([order_id_violation(order_id)])
