"""The read-only product catalogue, held in memory and built from the seed."""

from __future__ import annotations

import bisect
import builtins
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from meshkit.errors import FieldViolation, InvalidArgument, NotFound
from services.kernel.money import Money
from services.kernel.seed import (
    DEFAULT_PRODUCT_COUNT,
    SeedProduct,
    seed_products,
    sku_violation,
    validate_sku,
)
from services.kernel.validation import raise_violations, violation_unless

MAX_BATCH_SKUS = 1000


@dataclass(frozen=True)
class Product:
    """A product as the catalogue shows it."""

    sku: str
    name: str
    description: str
    category: str
    list_price: Money
    active: bool

    @classmethod
    def from_seed(cls, seed: SeedProduct) -> Product:
        """The catalogue view of one seeded product."""
        return cls(
            sku=seed.sku,
            name=seed.name,
            description=seed.description,
            category=seed.category,
            list_price=Money(seed.list_price_minor),
            active=seed.active,
        )


def _product_not_found(sku: str) -> NotFound:
    """The error for a SKU the catalogue does not hold."""
    return NotFound(
        message=f"product {sku} does not exist",
        reason="PRODUCT_NOT_FOUND",
        resource_type="product",
        resource_name=sku,
    )


class Catalog:
    """Products by SKU, listed in SKU order."""

    def __init__(self, products: Iterable[Product]) -> None:
        self._by_sku = {product.sku: product for product in products}
        self._skus = sorted(self._by_sku)

    @classmethod
    def seeded(cls, count: int = DEFAULT_PRODUCT_COUNT) -> Catalog:
        """The catalogue of the first ``count`` seeded products."""
        return cls(Product.from_seed(seed) for seed in seed_products(count))

    def get(self, sku: str) -> Product:
        """The product with this SKU; InvalidArgument if malformed, NotFound if unknown."""
        product = self._by_sku.get(sku)
        if product is None:
            # Validate only on a miss: a SKU found in the catalogue is well-formed.
            validate_sku(sku, "sku")
            raise _product_not_found(sku)
        return product

    def list(self, category: str = "", limit: int = 0, after_sku: str = "") -> Iterator[Product]:
        """Products in SKU order, strictly after ``after_sku`` when given.

        An empty ``category`` means all; an unknown one yields nothing. ``limit`` 0 means
        no limit.
        """
        raise_violations(
            [
                violation_unless(limit >= 0, "limit", "must not be negative"),
                sku_violation(after_sku, "after_sku") if after_sku else None,
            ]
        )
        # Validate eagerly, then hand back a lazy iterator a stream can consume slowly.
        return self._iterate(category, limit, after_sku)

    def batch_get(self, skus: Sequence[str]) -> tuple[builtins.list[Product], builtins.list[str]]:
        """The products found, in request order, and the SKUs that are missing.

        A SKU asked for twice is answered twice.
        """
        if len(skus) > MAX_BATCH_SKUS:
            raise InvalidArgument.of(
                FieldViolation("skus", f"at most {MAX_BATCH_SKUS} SKUs per call, got {len(skus)}")
            )
        raise_violations(sku_violation(sku, f"skus[{index}]") for index, sku in enumerate(skus))
        found = [self._by_sku[sku] for sku in skus if sku in self._by_sku]
        missing = [sku for sku in skus if sku not in self._by_sku]
        return found, missing

    def _iterate(self, category: str, limit: int, after_sku: str) -> Iterator[Product]:
        yielded = 0
        for sku in self._skus[bisect.bisect_right(self._skus, after_sku) :]:
            if limit and yielded >= limit:
                return
            product = self._by_sku[sku]
            if not category or product.category == category:
                yielded += 1
                yield product
