"""A local stand-in for DynamoDB: a moto server on 127.0.0.1 and tables with the storage
stack's key schema. For the tests and the chaos suite, never for a deployed service
(moto is a development dependency, imported by this module alone).

The server is a real HTTP endpoint, so boto3 goes through its whole stack. It answers one
request at a time. DynamoDB applies a transaction atomically however many arrive
together; moto does not: a transaction that fails restores a copy of the whole table
taken before it began, undoing whatever another request committed in between. Serving
requests in turn gives DynamoDB's atomicity while the stores' units of work still
interleave between requests, which is where their conflicts arise.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

REGION = "eu-west-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_names = itertools.count(1)


class _OneRequestPerConnection(MotoRequestHandler):
    """HTTP/1.0: a server answering in turn must not sit on one client's idle keep-alive
    connection while others wait (werkzeug switches the handler class to HTTP/1.1 as
    soon as any threaded server is made)."""

    protocol_version = "HTTP/1.0"


class SerialMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer answering one request at a time (see above)."""

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self._ip_address, self._port, app, False, request_handler=_OneRequestPerConnection
        )
        self._server_ready_event.set()
        self._server.serve_forever()


@contextmanager
def local_moto() -> Iterator[str]:
    """A moto server on 127.0.0.1 (a free port) for the block; yields its URL."""
    server = SerialMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def dynamodb_client(endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)


def create_table(endpoint: str, prefix: str = "test") -> str:
    """A new, empty table with the storage stack's key schema; returns its name."""
    name = f"{prefix}-{next(_names)}"
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
