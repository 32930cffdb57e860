"""The runner's state file: what ``python -m runner status`` cannot learn from a health
check — each process's pid and how many times the runner restarted it.

``run`` writes DATA_DIR/runner-state.json once the mesh is ready and again after every
restart (written whole, then renamed into place, so a reader never sees half of it) and
removes it when it exits; ``status`` believes it only while the runner that wrote it
still runs.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

STATE_FILE = "runner-state.json"
SCHEMA = "shopmesh-runner-state/1"


@dataclass(frozen=True)
class ProcessState:
    """One process of a running mesh, as its runner knows it."""

    pid: int
    restarts: int


def state_path(data_dir: Path) -> Path:
    """Where a runner with this data directory keeps its state file."""
    return data_dir / STATE_FILE


def write_state(
    path: Path, processes: Mapping[str, ProcessState], runner_pid: int | None = None
) -> None:
    """Replaces the state file with ``processes`` (process name → state)."""
    document = {
        "schema": SCHEMA,
        "runner_pid": os.getpid() if runner_pid is None else runner_pid,
        "processes": {
            name: {"pid": state.pid, "restarts": state.restarts}
            for name, state in processes.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def read_state(path: Path) -> dict[str, ProcessState]:
    """The processes of the runner that wrote ``path``; empty when there is no such file,
    it is not ours, or its runner no longer runs (a stale file)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("schema") != SCHEMA or not _running(int(document["runner_pid"])):
            return {}
        return {
            str(name): ProcessState(int(entry["pid"]), int(entry["restarts"]))
            for name, entry in document["processes"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def remove_state(path: Path, runner_pid: int | None = None) -> None:
    """Removes the state file if this runner (or ``runner_pid``) wrote it: a second
    ``run`` that stops at the port check must not take the first one's file away."""
    owner = os.getpid() if runner_pid is None else runner_pid
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(document, dict) and document.get("runner_pid") == owner:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it runs
        return True
    return True
