"""Fixtures of the domain unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from services.orders.dynamodb_store import DynamoOrderStore
from services.orders.sqlite_store import SqliteOrderStore
from tests.unit.order_fakes import World


@pytest.fixture(params=["sqlite", "dynamodb"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """An Orders with fresh fakes of its four ports, on each store in turn: a fresh
    SQLite file, and a fresh DynamoDB table on the local moto server."""
    if request.param == "sqlite":
        world = World(partial(SqliteOrderStore, tmp_path / "orders.db"))
    else:
        table = request.getfixturevalue("dynamo_table")
        world = World(partial(DynamoOrderStore, table))
    yield world
    world.store.close()
