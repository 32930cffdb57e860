"""Where a stateful service keeps its data, and opening that store: a SQLite file or a
DynamoDB table, chosen by ``SHOPMESH_STORAGE``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from meshkit.env import ConfigError, EnvReader

if TYPE_CHECKING:
    from meshkit.storage.dynamodb import Table

S = TypeVar("S")

STORAGES = ("sqlite", "dynamodb")
"""Where stateful services keep data: a SQLite file (local default) or a DynamoDB table."""


@dataclass(frozen=True)
class StorageConfig:
    """Where a stateful service keeps its data."""

    kind: str = "sqlite"
    data_dir: Path = Path("data")
    """SQLite: the folder of the service's file."""
    table: str = ""
    """DynamoDB: the table (the storage stack's ``<environment>-<service>``)."""
    region: str = ""
    endpoint_url: str = ""
    """DynamoDB: a local endpoint (moto, DynamoDB Local) instead of AWS's."""


def storage_from_env(env: Mapping[str, str]) -> StorageConfig:
    """SHOPMESH_STORAGE (sqlite | dynamodb), SHOPMESH_DATA_DIR for SQLite;
    SHOPMESH_DYNAMODB_TABLE (required), SHOPMESH_DYNAMODB_ENDPOINT and AWS_REGION (or
    AWS_DEFAULT_REGION) for DynamoDB. Credentials come from the usual AWS chain."""
    read = EnvReader(env)
    kind = read.choice("STORAGE", "sqlite", STORAGES)
    table = read.text("DYNAMODB_TABLE", "")
    if kind == "dynamodb" and not table:
        raise ConfigError(f"{read.name('STORAGE')}=dynamodb needs {read.name('DYNAMODB_TABLE')}")
    return StorageConfig(
        kind=kind,
        data_dir=Path(read.text("DATA_DIR", "data")),
        table=table,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION", ""),
        endpoint_url=read.text("DYNAMODB_ENDPOINT", ""),
    )


def open_store(
    storage: StorageConfig,
    file_name: str,
    sqlite: Callable[[Path], S],
    dynamodb: Callable[[Table], S],
) -> S:
    """``sqlite(<data dir>/file_name)`` (creating the folder) or ``dynamodb(table)``.

    boto3 is imported only here, on the DynamoDB path: it costs every process that does
    not use it ~0.2 s at start.
    """
    if storage.kind == "dynamodb":
        from meshkit.storage.dynamodb import open_table

        return dynamodb(open_table(storage))
    storage.data_dir.mkdir(parents=True, exist_ok=True)
    return sqlite(storage.data_dir / file_name)
