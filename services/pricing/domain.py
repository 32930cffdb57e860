"""Line pricing: price book, volume/category/promo discounts and regional tax.

All arithmetic is on integer minor units. A line rounds exactly twice, each time half away
from zero (``Money.percent``): once for its discount and once for its tax.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from meshkit.errors import FieldViolation, InvalidArgument, NotFound
from services.kernel.money import Money
from services.kernel.seed import DEFAULT_PRODUCT_COUNT, seed_products, sku_violation
from services.kernel.validation import raise_violations, range_violation

BASIS_POINTS = 10_000  # 100 %
MAX_QUANTITY = 10_000
MAX_ITEMS = 1000


@dataclass(frozen=True)
class QuoteItem:
    """An item to price."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class LineQuote:
    """The price of one line; ``total = unit_price * quantity + discount + tax``."""

    sku: str
    quantity: int
    unit_price: Money
    discount: Money  # zero or negative
    tax: Money  # on the discounted amount
    total: Money
    applied_rules: tuple[str, ...]


@dataclass(frozen=True)
class Quote:
    """Line quotes in request order and their sum."""

    lines: tuple[LineQuote, ...]
    total: Money


@dataclass(frozen=True)
class VolumeTier:
    """A discount for lines of at least ``min_quantity`` units."""

    min_quantity: int
    basis_points: int


DEFAULT_VOLUME_TIERS = (VolumeTier(5, 500), VolumeTier(10, 1000))
DEFAULT_CATEGORY_DISCOUNTS: Mapping[str, int] = MappingProxyType({"books": 300})
DEFAULT_PROMO_CODES: Mapping[str, int] = MappingProxyType({"WELCOME10": 1000, "SPRING5": 500})
DEFAULT_TAX_RATES: Mapping[str, int] = MappingProxyType(
    {"US": 725, "CA": 1300, "DE": 1900, "FR": 2000, "GB": 2000, "NL": 2100, "JP": 1000}
)


@dataclass(frozen=True)
class PricingRules:
    """Discount and tax rules, every rate in basis points (1/100 of a percent).

    Discounts stack: the rates of every rule that applies to a line (its best volume tier,
    its category's discount and the promo code) are added, and the sum is taken off the
    line's gross amount in one rounding. Tax is then charged on the discounted amount.
    """

    volume_tiers: tuple[VolumeTier, ...] = DEFAULT_VOLUME_TIERS
    category_discounts: Mapping[str, int] = field(
        default_factory=lambda: DEFAULT_CATEGORY_DISCOUNTS
    )
    promo_codes: Mapping[str, int] = field(default_factory=lambda: DEFAULT_PROMO_CODES)
    tax_rates: Mapping[str, int] = field(default_factory=lambda: DEFAULT_TAX_RATES)

    def __post_init__(self) -> None:
        # Reject at start-up any rule set that could price a line below zero.
        discount_groups = (
            [tier.basis_points for tier in self.volume_tiers],
            [*self.category_discounts.values()],
            [*self.promo_codes.values()],
        )
        rates = [rate for group in discount_groups for rate in group]
        if any(rate < 0 for rate in [*rates, *self.tax_rates.values()]):
            raise ValueError("rates must not be negative")
        worst = sum(max(group, default=0) for group in discount_groups)
        if worst > BASIS_POINTS:
            raise ValueError(f"stacked discounts can reach {worst} basis points, over 100 %")

    def discounts(self, quantity: int, category: str, promo_code: str) -> list[tuple[str, int]]:
        """The (rule name, basis points) of every discount that applies to a line."""
        applied = []
        tiers = [tier for tier in self.volume_tiers if quantity >= tier.min_quantity]
        if tiers:
            best = max(tiers, key=lambda tier: tier.min_quantity)
            applied.append((f"volume-{best.min_quantity}", best.basis_points))
        if category in self.category_discounts:
            applied.append((f"category-{category}", self.category_discounts[category]))
        if promo_code:
            applied.append((f"promo-{promo_code}", self.promo_codes[promo_code]))
        return applied


DEFAULT_RULES = PricingRules()


class Pricer:
    """Prices items from a price book of SKU -> (unit price, category)."""

    def __init__(
        self, price_book: Mapping[str, tuple[Money, str]], rules: PricingRules = DEFAULT_RULES
    ) -> None:
        self._price_book = price_book
        self._rules = rules

    @classmethod
    def seeded(
        cls, count: int = DEFAULT_PRODUCT_COUNT, rules: PricingRules = DEFAULT_RULES
    ) -> Pricer:
        """A pricer over the list prices of the first ``count`` seeded products."""
        book = {p.sku: (Money(p.list_price_minor), p.category) for p in seed_products(count)}
        return cls(book, rules)

    def quote_line(self, item: QuoteItem, region: str, promo_code: str) -> LineQuote:
        """Prices one item (the streaming shape); errors name the field "item.*"."""
        _check_items([("item", item)])
        self._check_terms(region, promo_code)
        return self._price(item, region, promo_code)

    def quote(self, items: Sequence[QuoteItem], region: str, promo_code: str) -> Quote:
        """Prices 1..1000 items; lines come back in request order."""
        if not 1 <= len(items) <= MAX_ITEMS:
            raise InvalidArgument.of(
                FieldViolation("items", f"must hold 1 to {MAX_ITEMS} items, got {len(items)}")
            )
        _check_items([(f"items[{index}]", item) for index, item in enumerate(items)])
        self._check_terms(region, promo_code)
        lines = tuple(self._price(item, region, promo_code) for item in items)
        currency = lines[0].total.currency
        return Quote(lines, Money.sum_of((line.total for line in lines), currency))

    def _check_terms(self, region: str, promo_code: str) -> None:
        if region not in self._rules.tax_rates:
            supported = ", ".join(sorted(self._rules.tax_rates))
            raise InvalidArgument.of(
                FieldViolation("region", f"{region!r} is not one of {supported}"),
                reason="UNSUPPORTED_REGION",
            )
        if promo_code and promo_code not in self._rules.promo_codes:
            raise InvalidArgument.of(
                FieldViolation("promo_code", f"{promo_code!r} is not a known promotion"),
                reason="UNKNOWN_PROMO_CODE",
            )

    def _price(self, item: QuoteItem, region: str, promo_code: str) -> LineQuote:
        entry = self._price_book.get(item.sku)
        if entry is None:
            raise NotFound(
                message=f"product {item.sku} has no price",
                reason="PRODUCT_NOT_PRICED",
                resource_type="product",
                resource_name=item.sku,
            )
        unit_price, category = entry
        rules = self._rules.discounts(item.quantity, category, promo_code)
        gross = unit_price.times(item.quantity)
        discount = -gross.percent(sum(rate for _, rate in rules))
        tax = (gross + discount).percent(self._rules.tax_rates[region])
        return LineQuote(
            sku=item.sku,
            quantity=item.quantity,
            unit_price=unit_price,
            discount=discount,
            tax=tax,
            total=gross + discount + tax,
            applied_rules=tuple(name for name, _ in rules),
        )


def _check_items(items: Sequence[tuple[str, QuoteItem]]) -> None:
    """Raises one InvalidArgument listing every malformed SKU and out-of-range quantity."""
    raise_violations(
        violation
        for path, item in items
        for violation in (
            sku_violation(item.sku, f"{path}.sku"),
            range_violation(item.quantity, f"{path}.quantity", 1, MAX_QUANTITY),
        )
    )
