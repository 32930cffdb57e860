"""Evidence that a run measured what it claims: calls that succeeded, spans that were made.

h2load counts HTTP 200 as success even when the gRPC status says otherwise, so the
runtime arms' access logs (one line per call, with its gRPC code) are the check for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.bench.server import RUNTIME, RUNTIME_TRACING
from tools.bench.stats import Sample


@dataclass(frozen=True)
class ServerCheck:
    """What one server process logged and exported over its life (warm-ups included)."""

    round: int
    arm: str
    spans: int
    access_log_lines: int
    access_log_not_ok: int


def access_log_counts(log: Path) -> tuple[int, int]:
    """(access-log lines, those whose gRPC code was not OK) in a server's log file."""
    lines = not_ok = 0
    if not log.exists():  # the bare arm logs nothing, so may never create its file
        return 0, 0
    with log.open(encoding="utf-8", errors="replace") as entries:
        for entry in entries:
            if '"shopmesh.access"' in entry:
                lines += 1
                not_ok += '"grpc_code": "OK"' not in entry
    return lines, not_ok


def notes(samples: Sequence[Sample], checks: Sequence[ServerCheck], logs_kept: bool) -> list[str]:
    """One line per check, for the docs."""

    def total(arm: str, field: str) -> int:
        return sum(getattr(check, field) for check in checks if check.arm == arm)

    where = "kept in --log-dir" if logs_kept else "a temp file deleted after the run"
    return [
        f"errors seen by the loaders, all arms and rounds: {sum(s.errors for s in samples)}",
        f"runtime access-log lines: {total(RUNTIME, 'access_log_lines'):,}, not OK: "
        f"{total(RUNTIME, 'access_log_not_ok')} (written line-buffered to {where})",
        f"runtime+tracing spans exported: {total(RUNTIME_TRACING, 'spans'):,} for "
        f"{total(RUNTIME_TRACING, 'access_log_lines'):,} access-log lines, not OK: "
        f"{total(RUNTIME_TRACING, 'access_log_not_ok')}",
    ]
