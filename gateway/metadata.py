"""HTTP headers ↔ gRPC metadata at the edge, and the request deadline.

Only allow-listed headers become metadata (R-A12): the rest of what a client sends never
reaches the mesh. Response metadata comes back as ``Grpc-Metadata-*`` headers, dropped
when its name or value could smuggle a header (CR/LF, control characters: R-A14).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from gateway.problems import BadRequest

FORWARDED_HEADERS = frozenset(
    {
        "authorization",
        "idempotency-key",
        "x-request-id",
        # Correlates one business operation across hops; the load test counts calls by it.
        "x-operation-id",
        "traceparent",
        "tracestate",
    }
)
METADATA_PREFIX = "grpc-metadata-"
TIMEOUT_HEADER = "grpc-timeout"

_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_SAFE_VALUE = re.compile(r"^[\x20-\x7e]*$")
_TIMEOUT = re.compile(r"^(\d{1,8})([HMSmun])$")
_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


TRACE_HEADERS = frozenset({"traceparent", "tracestate"})


def request_metadata(
    headers: Iterable[tuple[bytes, bytes]], peer: str | None, *, forward_trace: bool = True
) -> tuple[tuple[str, str], ...]:
    """Metadata for the upstream call from the allow-listed request headers.

    ``x-forwarded-for`` is rebuilt from the connection's peer, never taken from the
    client, so the mesh sees who really called. With tracing on, the client's trace
    headers are not copied: the gateway's own span continues them and the gRPC
    instrumentation sends its context instead.
    """
    metadata: list[tuple[str, str]] = []
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in TRACE_HEADERS and not forward_trace:
            continue
        if name in FORWARDED_HEADERS:
            metadata.append((name, value))
        elif name.startswith(METADATA_PREFIX):
            key = name[len(METADATA_PREFIX) :]
            if _TOKEN.match(key) and not key.endswith("-bin") and not key.startswith("grpc-"):
                metadata.append((key, value))
    if peer:
        metadata.append(("x-forwarded-for", peer))
    return tuple(metadata)


def response_headers(metadata: Iterable[tuple[str, str | bytes]]) -> list[tuple[bytes, bytes]]:
    """``Grpc-Metadata-<key>`` headers for the printable, non-binary upstream metadata."""
    headers: list[tuple[bytes, bytes]] = []
    for key, value in metadata:
        if isinstance(value, bytes) or key.startswith("grpc-") or not _TOKEN.match(key):
            continue
        if not _SAFE_VALUE.match(value):
            continue  # CR/LF or control characters: never let them shape a header
        headers.append(((METADATA_PREFIX + key).encode(), value.encode()))
    return headers


def deadline_s(headers: Sequence[tuple[bytes, bytes]], default_s: float, maximum_s: float) -> float:
    """The upstream deadline: the client's ``Grpc-Timeout`` clamped to the route maximum,
    or the default when it sent none."""
    for name, value in headers:
        if name.lower() == TIMEOUT_HEADER.encode():
            match = _TIMEOUT.match(value.decode("latin-1"))
            if match is None:
                raise BadRequest("Grpc-Timeout must look like 500m, 2S or 1M")
            return min(int(match.group(1)) * _UNITS[match.group(2)], maximum_s)
    return min(default_s, maximum_s)
