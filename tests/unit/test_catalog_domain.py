"""The in-memory catalogue: lookups, listing in SKU order, batch lookups."""

from __future__ import annotations

import pytest

from meshkit.errors import InvalidArgument, NotFound
from services.catalog.domain import Catalog, Product
from services.kernel.money import Money


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.seeded()


def test_get_returns_the_seeded_product(catalog: Catalog) -> None:
    """A known SKU returns its product with the seeded USD list price."""
    assert catalog.get("SKU-00001") == Product(
        sku="SKU-00001",
        name="Rustic Knife Set",
        description="A rustic knife set from our kitchen range.",
        category="kitchen",
        list_price=Money(40099, "USD"),
        active=True,
    )


def test_get_reports_an_unknown_sku_as_not_found(catalog: Catalog) -> None:
    """A well-formed SKU that is not seeded is NotFound naming the product."""
    with pytest.raises(NotFound) as caught:
        catalog.get("SKU-00301")

    assert caught.value.reason == "PRODUCT_NOT_FOUND"
    assert (caught.value.resource_type, caught.value.resource_name) == ("product", "SKU-00301")


def test_get_rejects_a_malformed_sku(catalog: Catalog) -> None:
    """A malformed SKU is InvalidArgument on the sku field."""
    with pytest.raises(InvalidArgument) as caught:
        catalog.get("SKU-1")

    assert [v.field for v in caught.value.violations] == ["sku"]


def test_list_yields_every_product_in_sku_order(catalog: Catalog) -> None:
    """Without filters, all 300 products come in SKU order."""
    skus = [p.sku for p in catalog.list()]

    assert skus == sorted(skus)
    assert len(skus) == 300


def test_list_filters_by_category_and_limit_after_a_sku(catalog: Catalog) -> None:
    """Category, after_sku (exclusive) and limit combine."""
    products = list(catalog.list(category="books", limit=3, after_sku="SKU-00003"))

    assert [p.sku for p in products] == ["SKU-00009", "SKU-00015", "SKU-00021"]
    assert {p.category for p in products} == {"books"}


def test_list_unknown_category_is_empty(catalog: Catalog) -> None:
    """An unknown category is not an error, just empty."""
    assert list(catalog.list(category="spaceships")) == []


def test_list_rejects_negative_limit_and_malformed_after_sku_together(catalog: Catalog) -> None:
    """Both bad arguments are reported at the call, before iteration starts."""
    with pytest.raises(InvalidArgument) as caught:
        catalog.list(limit=-1, after_sku="nope")

    assert [v.field for v in caught.value.violations] == ["limit", "after_sku"]


def test_batch_get_returns_found_in_request_order_and_missing(catalog: Catalog) -> None:
    """Found products keep request order; duplicates are answered each time asked."""
    found, missing = catalog.batch_get(
        ["SKU-00010", "SKU-00999", "SKU-00002", "SKU-00010", "SKU-00999"]
    )

    assert [p.sku for p in found] == ["SKU-00010", "SKU-00002", "SKU-00010"]
    assert missing == ["SKU-00999", "SKU-00999"]


def test_batch_get_names_each_malformed_sku_by_index(catalog: Catalog) -> None:
    """Every malformed SKU is reported as skus[i]."""
    with pytest.raises(InvalidArgument) as caught:
        catalog.batch_get(["SKU-00001", "bad", "SKU-00002", ""])

    assert [v.field for v in caught.value.violations] == ["skus[1]", "skus[3]"]


def test_batch_get_rejects_more_than_1000_skus(catalog: Catalog) -> None:
    """At most 1000 SKUs fit one call."""
    with pytest.raises(InvalidArgument) as caught:
        catalog.batch_get(["SKU-00001"] * 1001)

    assert [v.field for v in caught.value.violations] == ["skus"]
