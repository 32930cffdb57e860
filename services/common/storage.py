"""Opening a stateful service's store from its StorageConfig: a SQLite file or a table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from services.runtime.config import StorageConfig

if TYPE_CHECKING:
    from services.common.dynamodb import Table

S = TypeVar("S")


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
        from services.common.dynamodb import open_table

        return dynamodb(open_table(storage))
    storage.data_dir.mkdir(parents=True, exist_ok=True)
    return sqlite(storage.data_dir / file_name)
