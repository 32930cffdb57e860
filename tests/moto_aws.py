"""The local moto server that stands in for AWS in the tests, and DynamoDB tables on it
(``meshkit.storage.local_dynamodb``: one request at a time, so transactions stay atomic;
each table gets a fresh name, so tests never see each other's items)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from meshkit.storage.dynamodb import Table
from meshkit.storage.local_dynamodb import (
    CREDENTIALS,
    REGION,
    SerialMotoServer,
    create_table,
    dynamodb_client,
    local_moto,
)

__all__ = [
    "CREDENTIALS",
    "REGION",
    "SerialMotoServer",
    "create_table",
    "dynamo_table",
    "dynamodb_client",
    "local_moto",
    "moto_endpoint",
]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server for the whole session."""
    with local_moto() as url:
        yield url


@pytest.fixture
def dynamo_table(moto_endpoint: str) -> Table:
    """A fresh table on the session's moto server."""
    return Table(dynamodb_client(moto_endpoint), create_table(moto_endpoint))
