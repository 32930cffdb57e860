"""Service log lines as a person at a terminal wants them.

Services log one JSON object per line (meshkit/runtime/logs.py). By default the runner
shows each compactly — ``INFO rpc /shopmesh.catalog.v1.CatalogService/GetProduct OK
0.2ms`` — and anything that is not such an object untouched.
"""

from __future__ import annotations

import json
from typing import Any

# Shown elsewhere (the prefix) or too noisy for a terminal; still in --raw-logs.
_HIDDEN = frozenset(
    {"ts", "level", "service", "logger", "msg", "peer", "request_id", "operation_id"}
)
_RPC_FIELDS = frozenset({"rpc_method", "grpc_code", "duration_ms"})

COLOURS = (36, 33, 35, 32, 34, 91, 96, 93)
"""ANSI foreground colours given to services in manifest order."""


def compact(line: str) -> str:
    """One JSON log line in short form; any other line unchanged."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line
    if not isinstance(entry, dict) or "msg" not in entry:
        return line
    words = [str(entry.get("level", "")), str(entry["msg"])]
    shown = _HIDDEN | {"exception"}
    if entry["msg"] == "rpc" and entry.keys() >= _RPC_FIELDS:
        words += [str(entry["rpc_method"]), str(entry["grpc_code"]), _ms(entry["duration_ms"])]
        shown |= _RPC_FIELDS
    words += [f"{key}={_value(value)}" for key, value in entry.items() if key not in shown]
    text = " ".join(word for word in words if word)
    exception = entry.get("exception")
    return f"{text}\n{exception}" if isinstance(exception, str) else text


def _ms(value: Any) -> str:
    return f"{value:.1f}ms" if isinstance(value, int | float) else f"{value}ms"


def _value(value: Any) -> str:
    return value if isinstance(value, str) and value and " " not in value else json.dumps(value)


def prefix(name: str, width: int, colour: int | None) -> str:
    """``catalog  | `` padded to ``width``, in ANSI ``colour`` when one is given."""
    label = name.ljust(width)
    if colour is not None:
        label = f"\x1b[{colour}m{label}\x1b[0m"
    return f"{label} | "


def colour_for(index: int) -> int:
    """The colour of the ``index``-th service."""
    return COLOURS[index % len(COLOURS)]
