"""Fixtures of the domain unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.order_fakes import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """An OrderService on a fresh SQLite file with fresh fakes of its four ports."""
    world = World(tmp_path / "orders.db")
    yield world
    world.store.close()
