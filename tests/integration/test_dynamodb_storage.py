"""DynamoDB storage under contention, failure and real processes (a local moto server
stands in for AWS): what a shared table must guarantee that one SQLite file gave for free."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
from shopmesh.common.v1 import money_pb2
from shopmesh.payments.v1 import payments_pb2, payments_pb2_grpc

from meshkit.errors import Aborted, DomainError, FailedPrecondition, Unavailable
from meshkit.startup import StartupError
from meshkit.storage.config import StorageConfig
from meshkit.storage.dynamodb import ATTEMPTS, Table, UnitOfWork, atomically, open_table
from services.inventory.domain import Inventory, Stock
from services.inventory.dynamodb_store import DynamoInventoryStore
from services.kernel.money import Money
from services.orders.dynamodb_store import DynamoOrderStore
from services.orders.events import EventFeed
from services.orders.model import OrderEventType
from services.payments.domain import Payments
from services.payments.dynamodb_store import DynamoPaymentsStore
from tests.integration.processes import service_process
from tests.moto_aws import CREDENTIALS, REGION, create_table, dynamodb_client

T = TypeVar("T")
SKU = "SKU-00001"
WORKERS = 8


async def _twice_at_once(calls: list[Callable[[], Awaitable[T]]]) -> list[T | DomainError]:
    """Starts the calls at once (each unit of work runs on a store thread of its own);
    each result or the DomainError it raised."""

    async def outcome(call: Callable[[], Awaitable[T]]) -> T | DomainError:
        try:
            return await call()
        except DomainError as error:
            return error

    return list(await asyncio.gather(*(outcome(call) for call in calls)))


async def test_two_tasks_reserving_the_last_units_never_oversell(dynamo_table: Table) -> None:
    """Eight reservations of 3 from two stores (two tasks) on 10 units: exactly three
    succeed, the rest are INSUFFICIENT_STOCK, and the counters still add up to 10."""
    stores = [DynamoInventoryStore(dynamo_table, {SKU: 10}) for _ in range(2)]
    tasks = [Inventory(stores[n % 2]) for n in range(WORKERS)]

    outcomes = await _twice_at_once(
        [partial(tasks[n].reserve, f"k{n}", SKU, 3) for n in range(WORKERS)]
    )

    held = [o for o in outcomes if not isinstance(o, DomainError)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(held) == 3
    assert {(type(e), e.reason) for e in refused} == {(FailedPrecondition, "INSUFFICIENT_STOCK")}
    assert await tasks[0].get_stock(SKU) == Stock(SKU, 1, 9)


async def test_a_release_sent_to_two_tasks_at_once_returns_the_units_once(
    dynamo_table: Table,
) -> None:
    """The reservation's state is guarded: concurrent releases move the stock back once,
    even while another reservation holds enough units that the counters could not tell."""
    first, second = (Inventory(DynamoInventoryStore(dynamo_table, {SKU: 10})) for _ in range(2))
    await first.reserve("k", SKU, 4)
    await first.reserve("other", SKU, 4)

    outcomes = await _twice_at_once([partial(first.release, "k"), partial(second.release, "k")] * 3)

    assert all(not isinstance(o, DomainError) for o in outcomes), outcomes
    assert await first.get_stock(SKU) == Stock(SKU, 6, 4)


async def test_a_second_task_starting_on_a_used_table_does_not_reset_stock(
    dynamo_table: Table,
) -> None:
    """Seeding adds missing SKUs only: stock moved by the first task survives a new start,
    and a larger catalogue adds its new SKUs."""
    await Inventory(DynamoInventoryStore(dynamo_table, {SKU: 10})).reserve("k", SKU, 4)

    later = Inventory(DynamoInventoryStore(dynamo_table, {SKU: 999, "SKU-00002": 7}))

    assert await later.get_stock(SKU) == Stock(SKU, 6, 4)
    assert await later.get_stock("SKU-00002") == Stock("SKU-00002", 7, 0)


async def test_one_key_charged_through_two_tasks_at_once_captures_once(
    dynamo_table: Table, moto_endpoint: str
) -> None:
    """The key item is written only if absent, in the charge's transaction: concurrent
    charges under one key from two tasks return one charge id and store one charge."""
    tasks = [Payments(DynamoPaymentsStore(dynamo_table)) for _ in range(2)]
    amount = Money(1999, "EUR")

    outcomes = await _twice_at_once(
        [partial(tasks[n % 2].charge, "key-1", amount, "tok_visa", "ord") for n in range(WORKERS)]
    )

    charge_ids = {o.charge_id for o in outcomes if not isinstance(o, DomainError)}
    assert len(charge_ids) == 1, outcomes
    assert len(scan(moto_endpoint, dynamo_table.name, "charge#")) == 1


def test_a_unit_of_work_reruns_after_a_conflict_and_gives_up_as_aborted(
    dynamo_table: Table,
) -> None:
    """A conflicting write makes the unit run again on fresh reads; a conflict on every run
    ends in ABORTED (CONCURRENT_UPDATE) after ATTEMPTS runs, with nothing written."""
    atomically(dynamo_table, lambda unit: unit.put({"pk": "n", "sk": "meta", "value": 1}))
    runs: list[int] = []

    def bump_once_interfered(unit: UnitOfWork) -> int:
        value = int(unit.get("n")["value"])  # type: ignore[index]
        runs.append(value)
        if len(runs) == 1:  # another writer gets in between this unit's read and commit
            atomically(dynamo_table, lambda other: other.set("n", "meta", {"value": 10}))
        unit.guard("n", "meta", "value")
        unit.set("n", "meta", {"value": value + 1})
        return value + 1

    assert atomically(dynamo_table, bump_once_interfered) == 11
    assert runs == [1, 10]

    def always_interfered(unit: UnitOfWork) -> None:
        value = int(unit.get("n")["value"])  # type: ignore[index]
        atomically(dynamo_table, lambda other: other.set("n", "meta", {"value": value + 100}))
        unit.guard("n", "meta", "value")
        unit.set("n", "meta", {"value": -1})

    with pytest.raises(Aborted) as caught:
        atomically(dynamo_table, always_interfered)
    assert caught.value.reason == "CONCURRENT_UPDATE"
    assert dynamo_table.get("n")["value"] == 11 + 100 * ATTEMPTS  # type: ignore[index]


async def test_two_order_stores_appending_at_once_keep_the_log_gapless(
    dynamo_table: Table,
) -> None:
    """Events appended through two stores (an old and a new task in a rolling deploy)
    at once get sequences 1..N, each once; a follower on one store also sees the other's."""
    stores = [DynamoOrderStore(dynamo_table) for _ in range(2)]
    feed = EventFeed(stores[0])
    followed = feed.follow(0)
    now = datetime.now(UTC)

    async def append(n: int) -> None:
        await stores[n % 2].run(
            lambda records: records.append_event(f"ord_{n}", OrderEventType.CREATED, now)
        )

    await asyncio.gather(*(append(n) for n in range(12)))

    events = await stores[1].run(lambda records: records.events(0), write=False)
    assert [event.sequence for event in events] == list(range(1, 13))
    assert sorted(event.order_id for event in events) == sorted(f"ord_{n}" for n in range(12))
    seen = [await asyncio.wait_for(anext(followed), 5) for _ in range(12)]
    assert seen == events
    await followed.aclose()


def test_an_unreachable_table_is_unavailable_not_a_traceback() -> None:
    """Nothing listening at the endpoint: the call fails as UNAVAILABLE (retryable) and
    opening the store fails as a StartupError naming the table."""
    config = StorageConfig(
        kind="dynamodb", table="gone", region=REGION, endpoint_url="http://127.0.0.1:9"
    )
    with pytest.raises(StartupError, match="'gone'"):
        open_table(config)
    table = Table(dynamodb_client("http://127.0.0.1:9"), "gone")
    with pytest.raises(Unavailable) as caught:
        table.get("stock#SKU-00001")
    assert caught.value.reason == "STORAGE_UNAVAILABLE"


def test_a_missing_table_stops_start_up_naming_it(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table that does not exist is a StartupError naming it, not a crash later."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name.upper(), value)
    config = StorageConfig(
        kind="dynamodb", table="no-such-table", region=REGION, endpoint_url=moto_endpoint
    )
    with pytest.raises(StartupError, match="no-such-table"):
        open_table(config)


def _dynamodb_env(endpoint: str, table: str) -> dict[str, str]:
    return {
        "SHOPMESH_STORAGE": "dynamodb",
        "SHOPMESH_DYNAMODB_TABLE": table,
        "SHOPMESH_DYNAMODB_ENDPOINT": endpoint,
        "AWS_REGION": REGION,
        **{name.upper(): value for name, value in CREDENTIALS.items()},
    }


async def test_two_payments_processes_on_one_table_capture_each_key_once(
    moto_endpoint: str, tmp_path: Path
) -> None:
    """Two real payments processes configured by environment share one table: the same
    keys charged through both at once capture once each, and the charges are in the table,
    not in a SQLite file."""
    env = _dynamodb_env(moto_endpoint, create_table(moto_endpoint))
    async with (
        service_process("services.payments", tmp_path, env) as one,
        service_process("services.payments", tmp_path, env) as two,
    ):
        channels = [grpc.aio.insecure_channel(p.address) for p in (one, two)]
        stubs = [payments_pb2_grpc.PaymentsServiceStub(c) for c in channels]
        try:
            replies = await asyncio.gather(
                *(
                    stubs[n % 2].Charge(
                        payments_pb2.ChargeRequest(
                            idempotency_key=f"key-{n // 4}",
                            amount=money_pb2.Money(currency_code="EUR", amount_minor=500),
                            payment_token="tok_visa",
                            reference="two-tasks",
                        ),
                        timeout=10,
                    )
                    for n in range(16)
                )
            )
        finally:
            for channel in channels:
                await channel.close()
    by_key: dict[str, set[str]] = {}
    for reply in replies:
        by_key.setdefault(reply.charge.idempotency_key, set()).add(reply.charge.charge_id)
    assert {key: len(ids) for key, ids in by_key.items()} == {f"key-{n}": 1 for n in range(4)}
    assert len(scan(moto_endpoint, env["SHOPMESH_DYNAMODB_TABLE"], "charge#")) == 4
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".sqlite3")]


async def test_a_service_told_dynamodb_without_a_table_exits_2_in_one_line(
    tmp_path: Path,
) -> None:
    """SHOPMESH_STORAGE=dynamodb with no table, or a table that is not there: exit 2 with
    one line naming what is wrong, no traceback."""
    base = {**os.environ, "SHOPMESH_DATA_DIR": str(tmp_path), "SHOPMESH_GRPC_PORT": "0"}
    cases = [
        ({"SHOPMESH_STORAGE": "dynamodb"}, "SHOPMESH_DYNAMODB_TABLE"),
        ({"SHOPMESH_STORAGE": "s3"}, "SHOPMESH_STORAGE must be sqlite or dynamodb"),
        (_dynamodb_env("http://127.0.0.1:9", "orders-table"), "orders-table"),
    ]
    for extra, expected in cases:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.orders",
            env={**base, **extra},
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        text = stderr.decode()
        assert process.returncode == 2, text
        assert expected in text
        assert "Traceback" not in text


def scan(endpoint: str, table: str, prefix: str) -> list[dict[str, object]]:
    """Every item of ``table`` whose pk starts with ``prefix`` (a scan: tests only)."""
    pages = dynamodb_client(endpoint).get_paginator("scan").paginate(TableName=table)
    return [item for page in pages for item in page["Items"] if item["pk"]["S"].startswith(prefix)]
