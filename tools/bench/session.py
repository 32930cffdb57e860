"""What every benchmark command does around its rounds: stop cleanly on SIGTERM, work in
a scratch folder (or a kept one), and save its JSON document."""

from __future__ import annotations

import json
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any


def exit_on_sigterm() -> None:
    """SIGTERM becomes SystemExit, which unwinds every with-block: servers get stopped."""

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)


@contextmanager
def workdir(prefix: str, keep: Path | None) -> Iterator[Path]:
    """``keep`` (created if needed) or a temporary folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as temp:
        folder = keep or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder


def save_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
