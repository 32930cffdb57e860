"""Protobuf ↔ domain conversions shared by every servicer (money and time)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import timestamp_pb2
from shopmesh.common.v1 import money_pb2

from services.common.money import Money


def money_to_pb(money: Money) -> money_pb2.Money:
    return money_pb2.Money(currency_code=money.currency, amount_minor=money.amount_minor)


def money_from_pb(message: money_pb2.Money, field: str) -> Money:
    """A domain Money; the currency defaults to USD, a malformed one names ``field``."""
    return Money.parse(message.amount_minor, message.currency_code, field)


def timestamp_to_pb(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp
