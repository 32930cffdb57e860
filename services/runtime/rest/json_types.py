"""Money and time in the REST baseline's JSON, shaped like protobuf's JSON mapping
(camelCase names, RFC 3339 UTC times) so both HTTP faces of the shop look alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.common.money import Money
from services.runtime.rest.body import JsonObject


def money_json(money: Money) -> dict[str, Any]:
    return {"currencyCode": money.currency, "amountMinor": money.amount_minor}


def money_from_json(value: JsonObject | None, field: str) -> Money:
    """A domain Money from ``{"currencyCode", "amountMinor"}`` (absent: zero USD)."""
    if value is None:
        return Money.parse(0, "", field)
    money = Money.parse(value.integer("amountMinor"), value.string("currencyCode"), field)
    value.done()
    return money


def time_json(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
