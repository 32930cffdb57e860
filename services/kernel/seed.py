"""Deterministic product seed data shared by catalog, pricing and inventory.

Every value is derived from a SHA-256 of the SKU and the field name, never from a random
generator's state, so each service builds the same catalogue on every machine and Python
version without talking to the others.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from meshkit.env import EnvReader
from meshkit.errors import FieldViolation
from services.kernel.validation import raise_violations

SKU_PATTERN = re.compile(r"^SKU-\d{5}$")
"""A well-formed SKU, for example "SKU-00042"."""

DEFAULT_PRODUCT_COUNT = 300
MAX_PRODUCT_COUNT = 99_999  # five digits of SKU number
INACTIVE_EVERY = 50  # every 50th product is retired, so "inactive" paths have data

CATEGORIES: tuple[str, ...] = ("kitchen", "garden", "books", "toys", "outdoor", "office")
"""Category slugs; product n belongs to CATEGORIES[(n - 1) % len(CATEGORIES)]."""

_NOUNS: dict[str, tuple[str, ...]] = {
    "kitchen": ("Kettle", "Skillet", "Knife Set", "Cutting Board", "Teapot", "Colander"),
    "garden": ("Trowel", "Watering Can", "Planter", "Pruner", "Hose Reel", "Seed Tray"),
    "books": ("Cookbook", "Field Guide", "Atlas", "Novel", "Poetry Reader", "Sketchbook"),
    "toys": ("Kite", "Puzzle", "Yo-Yo", "Block Set", "Spinning Top", "Marble Run"),
    "outdoor": ("Tent", "Lantern", "Hammock", "Daypack", "Camp Stool", "Water Flask"),
    "office": ("Notebook", "Desk Lamp", "Stapler", "Pen Set", "Monitor Stand", "Organizer"),
}
_ADJECTIVES = ("Classic", "Compact", "Deluxe", "Rustic", "Modern", "Sturdy", "Nordic", "Bright")

# Prices are whole currency units minus one minor unit: 199 .. 49999.
_PRICE_UNITS = (2, 500)
_STOCK_RANGE = (50, 500)


@dataclass(frozen=True)
class SeedProduct:
    """One product as seeded; prices are in USD minor units."""

    sku: str
    name: str
    description: str
    category: str
    list_price_minor: int
    initial_stock: int
    active: bool


def sku_for(number: int) -> str:
    """The SKU of the ``number``-th seeded product (1-based)."""
    return f"SKU-{number:05d}"


def seed_products(count: int = DEFAULT_PRODUCT_COUNT) -> tuple[SeedProduct, ...]:
    """The first ``count`` seeded products in SKU order; identical on every run."""
    if not 0 <= count <= MAX_PRODUCT_COUNT:
        raise ValueError(f"count must be 0..{MAX_PRODUCT_COUNT}, got {count}")
    return tuple(_product(number) for number in range(1, count + 1))


def sku_violation(value: str, field: str) -> FieldViolation | None:
    """The violation for a malformed SKU in ``field``, or None when it is well formed."""
    if SKU_PATTERN.fullmatch(value):
        return None
    return FieldViolation(field, f"must look like SKU-00042, got {value!r}")


def validate_sku(value: str, field: str) -> None:
    """Raises InvalidArgument naming ``field`` unless ``value`` is a well-formed SKU."""
    raise_violations([sku_violation(value, field)])


def _product(number: int) -> SeedProduct:
    sku = sku_for(number)
    category = CATEGORIES[(number - 1) % len(CATEGORIES)]
    noun = _pick(_NOUNS[category], sku, "noun")
    adjective = _pick(_ADJECTIVES, sku, "adjective")
    return SeedProduct(
        sku=sku,
        name=f"{adjective} {noun}",
        description=f"A {adjective.lower()} {noun.lower()} from our {category} range.",
        category=category,
        list_price_minor=_draw(sku, "price", *_PRICE_UNITS) * 100 - 1,
        initial_stock=_draw(sku, "stock", *_STOCK_RANGE),
        active=number % INACTIVE_EVERY != 0,
    )


def _draw(sku: str, field: str, low: int, high: int) -> int:
    """A stable integer in [low, high] for this SKU and field."""
    digest = hashlib.sha256(f"{sku}/{field}".encode()).digest()
    return low + int.from_bytes(digest[:8], "big") % (high - low + 1)


def _pick(options: tuple[str, ...], sku: str, field: str) -> str:
    return options[_draw(sku, field, 0, len(options) - 1)]


def product_count_from_env(env: Mapping[str, str]) -> int:
    """SHOPMESH_PRODUCT_COUNT: how many seeded products the shop sells (catalog, pricing
    and inventory must agree, so it is one shared setting)."""
    return EnvReader(env).integer(
        "PRODUCT_COUNT", DEFAULT_PRODUCT_COUNT, minimum=1, maximum=MAX_PRODUCT_COUNT
    )
