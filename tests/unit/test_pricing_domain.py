"""Line pricing: exact stacked discounts, tax on the discounted amount, validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshkit.errors import InvalidArgument, NotFound
from services.kernel.money import Money
from services.pricing.domain import (
    DEFAULT_PROMO_CODES,
    DEFAULT_TAX_RATES,
    LineQuote,
    Pricer,
    PricingRules,
    QuoteItem,
    VolumeTier,
)

BOOK = "SKU-00001"
PAN = "SKU-00002"
PRICER = Pricer({BOOK: (Money(1999), "books"), PAN: (Money(250), "kitchen")})


def test_quote_line_without_discounts_adds_tax_rounded() -> None:
    """250 x 1 in the US: tax 7.25 % of 250 = 18.125, rounded to 18."""
    line = PRICER.quote_line(QuoteItem(PAN, 1), "US", "")

    assert line == LineQuote(PAN, 1, Money(250), Money(0), Money(18), Money(268), ())


def test_quote_line_rounds_half_away_from_zero() -> None:
    """250 x 1 in DE: tax 19 % of 250 = 47.5, rounded to 48."""
    assert PRICER.quote_line(QuoteItem(PAN, 1), "DE", "").tax == Money(48)


def test_quote_line_stacks_volume_category_and_promo_discounts() -> None:
    """1999 x 10 books with WELCOME10 in DE: 23 % off 19990 is 4598; 19 % tax on 15392 is 2924."""
    line = PRICER.quote_line(QuoteItem(BOOK, 10), "DE", "WELCOME10")

    assert line == LineQuote(
        sku=BOOK,
        quantity=10,
        unit_price=Money(1999),
        discount=Money(-4598),
        tax=Money(2924),
        total=Money(18316),
        applied_rules=("volume-10", "category-books", "promo-WELCOME10"),
    )


def test_quote_sums_lines_in_request_order() -> None:
    """In FR with SPRING5: 250 x 5 takes 10 % off, 1999 x 1 (a book) 8 %; both pay 20 % tax."""
    quote = PRICER.quote([QuoteItem(PAN, 5), QuoteItem(BOOK, 1)], "FR", "SPRING5")

    pan, book = quote.lines
    # 1250 - 125 = 1125, + 225 tax.
    assert (pan.discount, pan.tax, pan.total) == (Money(-125), Money(225), Money(1350))
    assert pan.applied_rules == ("volume-5", "promo-SPRING5")
    # 8 % of 1999 = 159.92 -> 160; 20 % of 1839 = 367.8 -> 368.
    assert (book.discount, book.tax, book.total) == (Money(-160), Money(368), Money(2207))
    assert book.applied_rules == ("category-books", "promo-SPRING5")
    assert quote.total == Money(3557)


@given(
    unit=st.integers(1, 10_000_000),
    quantity=st.integers(1, 10_000),
    region=st.sampled_from(sorted(DEFAULT_TAX_RATES)),
    promo=st.sampled_from(["", *sorted(DEFAULT_PROMO_CODES)]),
    category=st.sampled_from(["books", "toys"]),
)
def test_quote_line_total_is_gross_plus_discount_plus_tax(
    unit: int, quantity: int, region: str, promo: str, category: str
) -> None:
    """For any line, total = unit x quantity + discount + tax, discount <= 0 <= tax."""
    line = Pricer({BOOK: (Money(unit), category)}).quote_line(
        QuoteItem(BOOK, quantity), region, promo
    )

    assert line.total == Money(unit * quantity) + line.discount + line.tax
    assert line.discount.amount_minor <= 0 <= line.tax.amount_minor
    assert line.total.amount_minor > 0


def test_quote_reports_every_bad_item_field() -> None:
    """Bad quantities and SKUs are all reported, each by its items[i] path."""
    items = [QuoteItem(PAN, 0), QuoteItem(PAN, 10_001), QuoteItem("nope", 1)]

    with pytest.raises(InvalidArgument) as caught:
        PRICER.quote(items, "US", "")

    assert [v.field for v in caught.value.violations] == [
        "items[0].quantity",
        "items[1].quantity",
        "items[2].sku",
    ]


def test_quote_line_names_the_item_field() -> None:
    """A single line's bad quantity is reported as item.quantity."""
    with pytest.raises(InvalidArgument) as caught:
        PRICER.quote_line(QuoteItem(PAN, -1), "US", "")

    assert [v.field for v in caught.value.violations] == ["item.quantity"]


@pytest.mark.parametrize("count", [0, 1001])
def test_quote_rejects_an_item_count_out_of_range(count: int) -> None:
    """A quote takes 1 to 1000 items."""
    with pytest.raises(InvalidArgument) as caught:
        PRICER.quote([QuoteItem(PAN, 1)] * count, "US", "")

    assert [v.field for v in caught.value.violations] == ["items"]


def test_quote_rejects_an_unsupported_region() -> None:
    """A region without a tax rate is UNSUPPORTED_REGION on the region field."""
    with pytest.raises(InvalidArgument) as caught:
        PRICER.quote([QuoteItem(PAN, 1)], "XX", "")

    assert caught.value.reason == "UNSUPPORTED_REGION"
    assert [v.field for v in caught.value.violations] == ["region"]


def test_quote_rejects_an_unknown_promo_code() -> None:
    """An unknown non-empty promo code is UNKNOWN_PROMO_CODE on promo_code."""
    with pytest.raises(InvalidArgument) as caught:
        PRICER.quote([QuoteItem(PAN, 1)], "US", "FREESTUFF")

    assert caught.value.reason == "UNKNOWN_PROMO_CODE"
    assert [v.field for v in caught.value.violations] == ["promo_code"]


def test_quote_reports_an_unpriced_sku_as_not_found() -> None:
    """A well-formed SKU missing from the price book is PRODUCT_NOT_PRICED."""
    with pytest.raises(NotFound) as caught:
        PRICER.quote([QuoteItem(PAN, 1), QuoteItem("SKU-00077", 1)], "US", "")

    assert caught.value.reason == "PRODUCT_NOT_PRICED"
    assert caught.value.resource_name == "SKU-00077"


def test_pricer_seeded_prices_from_the_seed_list_price() -> None:
    """The seeded price book uses the catalogue's list prices."""
    line = Pricer.seeded().quote_line(QuoteItem("SKU-00001", 1), "US", "")

    assert line.unit_price == Money(40099)


def test_pricing_rules_reject_discounts_that_could_exceed_the_price() -> None:
    """Rules whose best discounts stack past 100 % are refused at construction."""
    with pytest.raises(ValueError, match="100 %"):
        PricingRules(volume_tiers=(VolumeTier(1, 9000),), promo_codes={"ALL": 2000})
