"""DynamoDB under the stateful services' stores: one table, a unit of work, retries.

The table contract is the storage stack's (cloudformation/storage.py): string keys ``pk``
(the aggregate, ``<entity>#<id>``) and ``sk`` (the item within it). A store runs each
domain transaction as a *unit of work*: reads go to the table (strongly consistent) and
see the unit's own pending writes; writes are buffered, merged per item, and committed
at the end in one ``TransactWriteItems`` whose conditions guard what the reads relied on.
When a condition fails because another writer got there first, the whole unit (a pure
function of what it reads) runs again; after ``ATTEMPTS`` tries the caller gets ABORTED.
Throttling and service errors come back as UNAVAILABLE, never as a traceback.

boto3 blocks, so units of work never run on an event loop thread: ``DynamoStore.run``
hands each one to the store threads (``offload.py``).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from meshkit.errors import Aborted, DomainError, Unavailable
from meshkit.startup import StartupError
from meshkit.storage.offload import on_store_thread

if TYPE_CHECKING:
    from meshkit.storage.config import StorageConfig

T = TypeVar("T")
R = TypeVar("R")

Item = dict[str, Any]
"""An item as Python values: str, int (stored as numbers), bool, None, lists and dicts."""
Key = tuple[str, str]

META = "meta"
"""The ``sk`` of an aggregate's root item."""
CALL_TIMEOUT_S = 3.0
"""Connect and read timeout of every call: no call waits on the table for ever."""
ATTEMPTS = 8
"""Runs of a unit of work before a write conflict is given up as ABORTED."""
BACKOFF_BASE_S = 0.005
BACKOFF_CAP_S = 0.2
MAX_TRANSACTION_ITEMS = 100
"""DynamoDB's limit of actions in one TransactWriteItems."""
_CONFLICTS = {"ConditionalCheckFailed", "TransactionConflict"}
_UNAVAILABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
}
_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


class WriteConflict(Exception):
    """A condition of the commit failed: someone else wrote first. The unit runs again."""


def open_table(config: StorageConfig) -> Table:
    """The configured table, checked by one read; StartupError if it cannot be used.

    Credentials come from the usual AWS chain (the task role on ECS).
    """
    client = boto3.client(
        "dynamodb",
        region_name=config.region or None,
        endpoint_url=config.endpoint_url or None,
        config=BotoConfig(
            connect_timeout=CALL_TIMEOUT_S,
            read_timeout=CALL_TIMEOUT_S,
            retries={"mode": "standard", "max_attempts": 3},
            max_pool_connections=32,
        ),
    )
    table = Table(client, config.table)
    try:
        table.get("probe#startup")
    except (ClientError, BotoCoreError, DomainError) as error:
        raise StartupError(f"cannot use DynamoDB table {config.table!r}: {error}") from error
    return table


class Table:
    """Strongly consistent reads and transactional writes on one pk/sk table."""

    def __init__(self, client: Any, name: str) -> None:
        self._client = client
        self.name = name

    def get(self, pk: str, sk: str = META) -> Item | None:
        """The item under (pk, sk), if any."""
        with _service_errors(self.name):
            reply = self._client.get_item(
                TableName=self.name, Key=_key(pk, sk), ConsistentRead=True
            )
        found = reply.get("Item")
        return None if found is None else _decode(found)

    def query(
        self,
        pk: str,
        *,
        prefix: str = "",
        after: str | None = None,
        through: str | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[Item]:
        """Items of ``pk`` in ``sk`` order whose sk starts with ``prefix``, or lies in
        (after, through] when those are given; at most ``limit`` of them."""
        names = {"#pk": "pk"}
        values: dict[str, Any] = {":pk": pk}
        condition = "#pk = :pk"
        if after is not None or through is not None or prefix:
            names["#sk"] = "sk"
        if after is not None or through is not None:
            values[":low"] = after if after is not None else prefix
            values[":high"] = through if through is not None else prefix + "\uffff"
            condition += " AND #sk BETWEEN :low AND :high"
        elif prefix:
            values[":prefix"] = prefix
            condition += " AND begins_with(#sk, :prefix)"
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": _encode(values),
            "ConsistentRead": True,
            "ScanIndexForward": not newest_first,
        }
        items: list[Item] = []
        while True:
            if limit is not None:
                request["Limit"] = limit - len(items) + 1  # +1: "after" is inclusive below
            with _service_errors(self.name):
                reply = self._client.query(**request)
            items.extend(
                item
                for item in map(_decode, reply.get("Items", []))
                if after is None or item["sk"] != after
            )
            last = reply.get("LastEvaluatedKey")
            if last is None or (limit is not None and len(items) >= limit):
                return items if limit is None else items[:limit]
            request["ExclusiveStartKey"] = last

    def put_if_absent(self, item: Item) -> bool:
        """Writes ``item`` unless its key exists; True if it was written."""
        try:
            with _service_errors(self.name):
                self._client.put_item(
                    TableName=self.name,
                    Item=_encode(item),
                    ConditionExpression="attribute_not_exists(pk)",
                )
        except WriteConflict:
            return False
        return True

    def transact(self, actions: list[dict[str, Any]]) -> None:
        """Commits ``actions`` (TransactWriteItems entries) all at once, or none of them."""
        if not actions:
            return
        if len(actions) > MAX_TRANSACTION_ITEMS:
            raise ValueError(
                f"a transaction may write at most {MAX_TRANSACTION_ITEMS} items, "
                f"this one writes {len(actions)}"
            )
        with _service_errors(self.name):
            self._client.transact_write_items(TransactItems=actions)


@dataclass
class _Pending:
    """What a unit of work will do to one item."""

    put: Item | None = None
    put_if_absent: bool = False
    delete: bool = False
    sets: Item = field(default_factory=dict)
    adds: dict[str, int] = field(default_factory=dict)
    floors: dict[str, int] = field(default_factory=dict)
    """attribute -> the least value it must hold before the commit (ADD guards)."""
    expected: Item = field(default_factory=dict)
    """attribute -> the value it must still hold at commit (None: attribute absent)."""


class UnitOfWork:
    """Reads of one table that see this unit's pending writes, and those writes.

    The records classes of the stores build on it; nothing is written until ``commit``.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self._pending: dict[Key, _Pending] = {}
        self._read: dict[Key, Item | None] = {}

    def get(self, pk: str, sk: str = META) -> Item | None:
        """The item as this unit sees it: as read from the table, with pending writes."""
        return self._view((pk, sk), self.get_stored(pk, sk))

    def query(self, pk: str, **options: Any) -> list[Item]:
        """Table.query, with this unit's pending changes to the items it returns.

        Items this unit added and has not committed are not listed.
        """
        rows = self.table.query(pk, **options)
        views = (self._view((pk, row["sk"]), row) for row in rows)
        return [view for view in views if view is not None]

    def put(self, item: Item, *, if_absent: bool = True) -> None:
        """Writes a whole item; by default only if no item with its key exists yet."""
        pending = self._at((item["pk"], item["sk"]))
        pending.put = dict(item)
        pending.put_if_absent = if_absent
        pending.delete = False

    def set(self, pk: str, sk: str, values: Mapping[str, Any]) -> None:
        """Sets attributes of an item that must exist (or is put by this unit)."""
        pending = self._at((pk, sk))
        if pending.put is not None:
            pending.put.update(values)
        else:
            pending.sets.update(values)

    def add(self, pk: str, sk: str, deltas: Mapping[str, int]) -> None:
        """Adds to numeric attributes atomically; a result below 0 fails the commit."""
        pending = self._at((pk, sk))
        for name, delta in deltas.items():
            if pending.put is not None:
                pending.put[name] = int(pending.put.get(name, 0)) + delta
                continue
            total = pending.adds.get(name, 0) + delta
            pending.adds[name] = total
            pending.floors[name] = max(0, -total)

    def expect(self, pk: str, sk: str, name: str, value: Any) -> None:
        """Fails the commit unless attribute ``name`` still holds ``value`` (None: absent)."""
        self._at((pk, sk)).expected[name] = value

    def guard(self, pk: str, sk: str, *names: str) -> None:
        """Fails the commit unless these attributes still hold what this unit read.

        What a decision rested on ("the reservation is HELD") must not change before the
        write that follows from it commits, or two tasks could both act on it.
        """
        stored = self.get_stored(pk, sk) or {}
        for name in names:
            self.expect(pk, sk, name, stored.get(name))

    def get_stored(self, pk: str, sk: str = META) -> Item | None:
        """The item as read from the table, without this unit's pending writes."""
        key = (pk, sk)
        if key not in self._read:
            self._read[key] = self.table.get(pk, sk)
        return self._read[key]

    def delete(self, pk: str, sk: str) -> None:
        """Deletes an item."""
        pending = self._at((pk, sk))
        pending.put = None
        pending.sets.clear()
        pending.adds.clear()
        pending.delete = True

    def commit(self) -> None:
        """Writes everything in one transaction; WriteConflict if a condition failed."""
        self.table.transact(
            [_action(self.table.name, key, pending) for key, pending in self._pending.items()]
        )

    def _at(self, key: Key) -> _Pending:
        return self._pending.setdefault(key, _Pending())

    def _view(self, key: Key, stored: Item | None) -> Item | None:
        pending = self._pending.get(key)
        if pending is None:
            return stored
        if pending.delete:
            return None
        if pending.put is not None:
            return dict(pending.put)
        if stored is None:
            return None
        view = {**stored, **pending.sets}
        for name, delta in pending.adds.items():
            view[name] = int(view.get(name, 0)) + delta
        return view


class DynamoStore(Generic[R]):
    """A ``Store`` of ``R`` records, each unit of work one UnitOfWork on the store threads.

    ``records`` builds a service's records over a UnitOfWork. With ``one_writer`` the
    write units of this process take turns (reads never wait): for a store whose every
    write touches one hot item, taking turns here is cheaper than conflicting at the table.
    """

    def __init__(
        self, table: Table, records: Callable[[UnitOfWork], R], *, one_writer: bool = False
    ) -> None:
        self._table = table
        self._records = records
        self._writing = threading.Lock() if one_writer else None

    async def run(self, work: Callable[[R], T], *, write: bool = True) -> T:
        """Runs ``work`` as one unit of work, again if another writer got there first."""
        ran: list[R] = []

        def unit_work(unit: UnitOfWork) -> T:
            records = self._records(unit)
            ran.append(records)
            return work(records)

        def in_thread() -> T:
            if not write or self._writing is None:
                return atomically(self._table, unit_work, write=write)
            with self._writing:
                return atomically(self._table, unit_work)

        result = await on_store_thread(in_thread)
        self.committed(ran[-1])
        return result

    def committed(self, records: R) -> None:
        """Called (on the event loop) with the records of the run that committed; a
        subclass may react to what it wrote."""

    def close(self) -> None:
        """Nothing to release: boto3 clients close their pools when collected."""


def atomically(table: Table, work: Callable[[UnitOfWork], T], *, write: bool = True) -> T:
    """Runs ``work`` in a unit of work and commits it, again on a write conflict.

    ``work`` may run several times, so it must only read and write through its unit. An
    exception from ``work`` commits nothing. ``write=False`` runs it once, never commits.
    """
    for attempt in range(ATTEMPTS):
        unit = UnitOfWork(table)
        result = work(unit)
        if not write:
            return result
        try:
            unit.commit()
        except WriteConflict:
            # Full jitter: conflicts are between requests in flight together.
            time.sleep(random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)))
            continue
        return result
    raise Aborted(
        message="the data changed under this request too often; retry it",
        reason="CONCURRENT_UPDATE",
        metadata={"table": table.name},
    )


def number(value: Any) -> int:
    """A stored number as int (boto3 reads numbers as Decimal)."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"expected a stored number, got {value!r}")


def _action(table: str, key: Key, pending: _Pending) -> dict[str, Any]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    conditions: list[str] = []

    def name(attribute: str) -> str:
        placeholder = f"#a{len(names)}"
        names[placeholder] = attribute
        return placeholder

    def value(data: Any) -> str:
        placeholder = f":v{len(values)}"
        values[placeholder] = data
        return placeholder

    for attribute, expected in pending.expected.items():
        if expected is None:
            conditions.append(f"attribute_not_exists({name(attribute)})")
        else:
            conditions.append(f"{name(attribute)} = {value(expected)}")

    def extras(body: dict[str, Any]) -> dict[str, Any]:
        if conditions:
            body["ConditionExpression"] = " AND ".join(conditions)
        if names:
            body["ExpressionAttributeNames"] = names
        if values:
            body["ExpressionAttributeValues"] = _encode(values)
        return body

    if pending.put is not None:
        if pending.put_if_absent:
            conditions.insert(0, f"attribute_not_exists({name('pk')})")
        return {"Put": extras({"TableName": table, "Item": _encode(pending.put)})}
    if pending.delete:
        return {"Delete": extras({"TableName": table, "Key": _key(*key)})}
    if not pending.sets and not pending.adds:
        return {"ConditionCheck": extras({"TableName": table, "Key": _key(*key)})}
    conditions.insert(0, f"attribute_exists({name('pk')})")
    clauses: list[str] = []
    if pending.sets:
        clauses.append(
            "SET " + ", ".join(f"{name(a)} = {value(v)}" for a, v in pending.sets.items())
        )
    if pending.adds:
        clauses.append("ADD " + ", ".join(f"{name(a)} {value(v)}" for a, v in pending.adds.items()))
        for attribute, floor in pending.floors.items():
            if floor > 0:
                conditions.append(f"{name(attribute)} >= {value(floor)}")
    update = {"TableName": table, "Key": _key(*key), "UpdateExpression": " ".join(clauses)}
    return {"Update": extras(update)}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _encode(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serialize(data) for name, data in item.items()}


def _decode(item: Mapping[str, Any]) -> Item:
    return {name: _deserialize(data) for name, data in item.items()}


@contextmanager
def _service_errors(table: str) -> Iterator[None]:
    """Maps a failed call: conditions → WriteConflict, throttling → UNAVAILABLE."""
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        reasons = [r.get("Code", "") for r in error.response.get("CancellationReasons", [])]
        if code == "ConditionalCheckFailedException" or _CONFLICTS.intersection(reasons):
            raise WriteConflict(code) from error
        if code in _UNAVAILABLE or _UNAVAILABLE.intersection(reasons):
            raise _unavailable(table, code) from error
        raise
    except BotoCoreError as error:  # timeouts, refused connections
        raise _unavailable(table, type(error).__name__) from error


def _unavailable(table: str, cause: str) -> Unavailable:
    return Unavailable(
        message=f"the {table} table is not answering ({cause}); retry shortly",
        reason="STORAGE_UNAVAILABLE",
        metadata={"table": table},
        retry_after_s=0.2,
    )
