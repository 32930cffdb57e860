"""The shop's example calls (services/examples.toml, beside the manifest), typed.

The runner prints them and ``make deploy`` prints the grpcurl ones: grpcurl calls keyed
by fully qualified service; curl requests to the REST/JSON gateway; and curl requests to
each service of a REST/JSON baseline mesh, keyed by service name. The data lives with
the services, so a new service brings its examples without touching this package; a
service with no entry still gets grpcurl ``list`` and ``describe``.
"""

from __future__ import annotations

import functools
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from meshkit.manifest import DEFAULT_MANIFEST

DEFAULT_EXAMPLES = DEFAULT_MANIFEST.with_name("examples.toml")


@dataclass(frozen=True)
class Example:
    """One call of ``method`` (a method of the keyed service) with a JSON request, or
    several for a client or bidirectional stream (grpcurl reads one object per message)."""

    method: str
    request: Mapping[str, Any] | tuple[Mapping[str, Any], ...]
    note: str = ""

    @property
    def messages(self) -> tuple[Mapping[str, Any], ...]:
        return self.request if isinstance(self.request, tuple) else (self.request,)


JSON = "application/json"
NDJSON = "application/x-ndjson"
DOCS_PATH = "/docs"
"""The gateway's Swagger UI page (printed as a URL to open, not as a curl command)."""


@dataclass(frozen=True)
class CurlExample:
    """One HTTP request. ``body`` is a JSON object, sent as JSON, or a tuple of them, sent
    as an NDJSON stream (one object per line, as a client or bidi stream RPC reads them).
    ``streams`` marks NDJSON replies, which curl should print line by line as they
    arrive. ``pipe`` is a shell command the output goes through; ``headers`` are sent
    after the content type."""

    method: Literal["GET", "POST"]
    path: str
    body: Mapping[str, Any] | tuple[Mapping[str, Any], ...] | None = None
    note: str = ""
    streams: bool = False
    pipe: str = ""
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def content_type(self) -> str | None:
        """The request's content type; None without a body."""
        if self.body is None:
            return None
        return NDJSON if isinstance(self.body, tuple) else JSON

    @property
    def data(self) -> str | None:
        """The exact request body: compact JSON, or NDJSON lines each ending in a newline."""
        if self.body is None:
            return None
        if isinstance(self.body, tuple):
            return "".join(f"{_compact(line)}\n" for line in self.body)
        return _compact(self.body)


def _compact(document: Mapping[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


class ExamplesError(ValueError):
    """The examples file is malformed; the message names the entry."""


@dataclass(frozen=True)
class Examples:
    """Every example call, by where it goes."""

    grpc: Mapping[str, tuple[Example, ...]]
    """grpcurl calls, keyed by fully qualified gRPC service."""
    gateway: tuple[CurlExample, ...]
    """Requests to the REST/JSON gateway."""
    rest: Mapping[str, tuple[CurlExample, ...]]
    """Requests to each service of a REST/JSON baseline mesh, keyed by service name, in an
    order that works when run top to bottom (a reservation before its release)."""


_GRPC_KEYS = {"method", "request", "messages", "note"}
_CURL_KEYS = {"method", "path", "body", "stream", "note", "streams", "pipe", "headers"}


def _grpc_example(entry: Mapping[str, Any], where: str) -> Example:
    _check_keys(entry, _GRPC_KEYS, where)
    if ("request" in entry) == ("messages" in entry):
        raise ExamplesError(f"{where}: give request or messages, not both or neither")
    request = entry.get("request") or tuple(entry["messages"])
    return Example(str(entry["method"]), request, str(entry.get("note", "")))


def _curl_example(entry: Mapping[str, Any], where: str) -> CurlExample:
    _check_keys(entry, _CURL_KEYS, where)
    method = entry.get("method")
    if method not in ("GET", "POST") or not str(entry.get("path", "")).startswith("/"):
        raise ExamplesError(f"{where}: method must be GET or POST and path start with /")
    if "body" in entry and "stream" in entry:
        raise ExamplesError(f"{where}: give body or stream, not both")
    body = tuple(entry["stream"]) if "stream" in entry else entry.get("body")
    headers = entry.get("headers", {})
    return CurlExample(
        cast(Literal["GET", "POST"], method),
        entry["path"],
        body,
        note=str(entry.get("note", "")),
        streams=bool(entry.get("streams", False)),
        pipe=str(entry.get("pipe", "")),
        headers=tuple((str(name), str(value)) for name, value in headers.items()),
    )


def _check_keys(entry: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(entry) - allowed
    if unknown:
        raise ExamplesError(f"{where}: unknown keys {sorted(unknown)}")


@functools.cache
def load_examples(path: Path = DEFAULT_EXAMPLES) -> Examples:
    """The examples in ``path``; ExamplesError naming the entry if one is malformed."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ExamplesError(f"{path}: {exc}") from exc
    return Examples(
        grpc={
            service: tuple(
                _grpc_example(entry, f"grpc.{service}[{n}]") for n, entry in enumerate(entries)
            )
            for service, entries in data.get("grpc", {}).items()
        },
        gateway=tuple(
            _curl_example(entry, f"gateway[{n}]") for n, entry in enumerate(data.get("gateway", ()))
        ),
        rest={
            service: tuple(
                _curl_example(entry, f"rest.{service}[{n}]") for n, entry in enumerate(entries)
            )
            for service, entries in data.get("rest", {}).items()
        },
    )
