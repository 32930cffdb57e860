"""Money as integer minor units, so no step ever rounds through a binary float."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from meshkit.errors import FieldViolation, InvalidArgument

DEFAULT_CURRENCY = "USD"


@dataclass(frozen=True, order=True)
class Money:
    """An amount in the minor unit of ``currency`` (cents for USD)."""

    amount_minor: int
    currency: str = DEFAULT_CURRENCY

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount_minor * quantity, self.currency)

    def percent(self, basis_points: int) -> Money:
        """``basis_points``/10000 of this amount, rounded half away from zero."""
        numerator = self.amount_minor * basis_points
        sign = -1 if numerator < 0 else 1
        return Money(sign * ((abs(numerator) + 5000) // 10000), self.currency)

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Money:
        return cls(0, currency)

    @classmethod
    def sum_of(cls, amounts: Iterable[Money], currency: str = DEFAULT_CURRENCY) -> Money:
        """The sum of ``amounts``, which must all be in ``currency``; zero when empty."""
        return sum(amounts, cls.zero(currency))

    @classmethod
    def parse(cls, amount_minor: int, currency_code: str, field: str) -> Money:
        """Money from a request; the currency defaults to USD, a malformed one is an
        InvalidArgument naming ``field`` (every transport parses money this way)."""
        currency = currency_code or DEFAULT_CURRENCY
        if len(currency) != 3 or not currency.isascii() or not currency.isupper():
            raise InvalidArgument.of(
                FieldViolation(f"{field}.currency_code", "must be an ISO 4217 code like USD")
            )
        return cls(amount_minor, currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")
