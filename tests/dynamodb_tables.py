"""DynamoDB tables on a local moto server (the stand-in for AWS), one per test.

The server is a real HTTP endpoint on 127.0.0.1, so boto3 goes through its whole stack;
each table gets a fresh name, so tests never see each other's items.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from services.common.dynamodb import Table

REGION = "eu-west-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_names = itertools.count(1)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def dynamodb_client(endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)


def create_table(endpoint: str) -> str:
    """A new, empty table with the storage stack's key schema; returns its name."""
    name = f"test-{next(_names)}"
    dynamodb_client(endpoint).create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    return name


@pytest.fixture
def dynamo_table(moto_endpoint: str) -> Table:
    """A fresh table on the session's moto server."""
    return Table(dynamodb_client(moto_endpoint), create_table(moto_endpoint))
