"""Money and time in the contract's two wire shapes: protobuf messages for the servicers
and gRPC clients, and protobuf's JSON mapping (camelCase names, RFC 3339 UTC times) for
the REST baseline's adapters, so both HTTP faces of the shop look alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import timestamp_pb2
from shopmesh.common.v1 import money_pb2

from meshkit.runtime.rest.body import JsonObject
from services.kernel.money import Money


def money_to_pb(money: Money) -> money_pb2.Money:
    return money_pb2.Money(currency_code=money.currency, amount_minor=money.amount_minor)


def money_from_pb(message: money_pb2.Money, field: str) -> Money:
    """A domain Money; the currency defaults to USD, a malformed one names ``field``."""
    return Money.parse(message.amount_minor, message.currency_code, field)


def timestamp_to_pb(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


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
