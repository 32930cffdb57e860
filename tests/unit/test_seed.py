"""Deterministic product seed data and SKU validation."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from meshkit.errors import InvalidArgument
from services.kernel.seed import CATEGORIES, SKU_PATTERN, seed_products, validate_sku

# A digest of the whole default seed. It changes only when the seed algorithm does; a
# machine, Python version or hash seed that produced another catalogue fails here.
GOLDEN_SEED_DIGEST = "4f357d95d6138bdfa70d96dde01c12633c43d38e905b6809e80aed86e6acb1b9"


def test_seed_products_match_the_golden_digest() -> None:
    """The default seed is byte-for-byte the catalogue every service was built against."""
    digest = hashlib.sha256(repr(seed_products()).encode()).hexdigest()

    assert digest == GOLDEN_SEED_DIGEST


def test_seed_products_default_has_300_products_in_sku_order() -> None:
    """SKUs run SKU-00001..SKU-00300 without gaps."""
    products = seed_products()

    assert [p.sku for p in products] == [f"SKU-{n:05d}" for n in range(1, 301)]
    assert all(SKU_PATTERN.fullmatch(p.sku) for p in products)


def test_seed_products_stay_within_documented_ranges() -> None:
    """Prices are 199..49999 minor units and stock 50..500 units."""
    products = seed_products()

    assert min(p.list_price_minor for p in products) >= 199
    assert max(p.list_price_minor for p in products) <= 49999
    assert all(50 <= p.initial_stock <= 500 for p in products)
    assert len({p.list_price_minor for p in products}) > 100  # actually varied


def test_seed_products_every_50th_is_inactive() -> None:
    """Exactly the products numbered 50, 100, ... are inactive."""
    inactive = [p.sku for p in seed_products() if not p.active]

    assert inactive == [f"SKU-{n:05d}" for n in range(50, 301, 50)]


def test_seed_products_spread_evenly_over_six_categories() -> None:
    """Every category holds 50 of the 300 products."""
    assert Counter(p.category for p in seed_products()) == dict.fromkeys(CATEGORIES, 50)


def test_seed_products_prefix_is_stable_across_counts() -> None:
    """A smaller seed is a prefix of a larger one, so services with different counts agree."""
    assert seed_products(300)[:10] == seed_products(10)


@pytest.mark.parametrize("count", [-1, 100_000])
def test_seed_products_rejects_a_count_out_of_range(count: int) -> None:
    """Counts that do not fit five-digit SKUs are refused."""
    with pytest.raises(ValueError, match="count"):
        seed_products(count)


@pytest.mark.parametrize(
    "value", ["", "SKU-1", "sku-00001", "SKU-000001", "SKU-0000a", " SKU-00001"]
)
def test_validate_sku_names_the_field_of_a_malformed_sku(value: str) -> None:
    """A malformed SKU raises InvalidArgument naming the given field."""
    with pytest.raises(InvalidArgument) as caught:
        validate_sku(value, "items[3].sku")

    assert [v.field for v in caught.value.violations] == ["items[3].sku"]


def test_validate_sku_accepts_a_well_formed_sku() -> None:
    """A well-formed SKU passes silently."""
    validate_sku("SKU-00042", "sku")
