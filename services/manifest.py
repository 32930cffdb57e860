"""The mesh manifest (services/mesh.toml): one typed, validated view for every reader.

The local runner, the CloudFormation generator and the load test all load it through
``load_manifest``; invalid values fail here, at load time, with a message naming them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_MANIFEST = Path(__file__).with_name("mesh.toml")

# Service names double as Service Connect aliases and VPC Lattice service names
# (3-40 chars of [a-z0-9-]); keep the stricter common subset.
_NAME = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
_PROTO_SERVICE = re.compile(
    r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.v\d+\.[A-Z][A-Za-z0-9]*Service$"
)
_RPC = re.compile(r"^[A-Z][A-Za-z0-9]*$")


class ManifestError(ValueError):
    """The manifest is malformed; the message names the offending entry."""


@dataclass(frozen=True)
class ServiceSpec:
    """One service of the mesh."""

    name: str
    module: str
    grpc_port: int
    health_port: int
    proto_services: tuple[str, ...]
    depends_on: tuple[str, ...]
    streaming_rpcs: tuple[str, ...]
    stateful: bool

    @property
    def streams(self) -> bool:
        """True when any RPC streams, so proxies must not time requests out."""
        return bool(self.streaming_rpcs)


@dataclass(frozen=True)
class Manifest:
    """Every service, in a start order where dependencies come first."""

    name: str
    services: tuple[ServiceSpec, ...]

    def service(self, name: str) -> ServiceSpec:
        for spec in self.services:
            if spec.name == name:
                return spec
        raise KeyError(name)


def load_manifest(path: Path = DEFAULT_MANIFEST) -> Manifest:
    """Reads and validates a manifest file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"{path}: {exc}") from exc
    return parse_manifest(raw, source=str(path))


def parse_manifest(raw: Mapping[str, Any], source: str = "<manifest>") -> Manifest:
    """Validates a parsed manifest and orders services dependencies-first."""
    mesh = raw.get("mesh", {})
    name = mesh.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ManifestError(f"{source}: [mesh].name must match {_NAME.pattern}, got {name!r}")
    tables = raw.get("services")
    if not isinstance(tables, dict) or not tables:
        raise ManifestError(f"{source}: at least one [services.<name>] table is required")
    specs = [_parse_service(n, t, source) for n, t in tables.items()]
    _check_unique_ports(specs, source)
    return Manifest(name=name, services=_dependency_order(specs, source))


def _parse_service(name: str, table: Any, source: str) -> ServiceSpec:
    where = f"{source}: [services.{name}]"
    if not _NAME.match(name):
        raise ManifestError(f"{where}: name must match {_NAME.pattern}")
    if not isinstance(table, dict):
        raise ManifestError(f"{where}: must be a table")
    known = {
        "module",
        "grpc_port",
        "health_port",
        "proto_services",
        "depends_on",
        "streaming_rpcs",
        "stateful",
    }
    unknown = sorted(set(table) - known)
    if unknown:
        raise ManifestError(f"{where}: unknown keys {unknown}")

    def port(key: str) -> int:
        value = table.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1024 <= value <= 65535:
            raise ManifestError(f"{where}.{key} must be an integer in 1024..65535, got {value!r}")
        return value

    def strings(key: str, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ManifestError(f"{where}.{key} must be a list of strings")
        for item in value:
            if pattern is not None and not pattern.match(item):
                raise ManifestError(f"{where}.{key}: {item!r} must match {pattern.pattern}")
        if len(set(value)) != len(value):
            raise ManifestError(f"{where}.{key} has duplicates")
        return tuple(value)

    module = table.get("module", "")
    stateful = table.get("stateful", False)
    if not isinstance(module, str) or not isinstance(stateful, bool):
        raise ManifestError(f"{where}: module must be a string and stateful a boolean")
    proto_services = strings("proto_services", _PROTO_SERVICE)
    if not proto_services:
        raise ManifestError(f"{where}.proto_services must name at least one gRPC service")
    spec = ServiceSpec(
        name=name,
        module=module,
        grpc_port=port("grpc_port"),
        health_port=port("health_port"),
        proto_services=proto_services,
        depends_on=strings("depends_on", _NAME),
        streaming_rpcs=strings("streaming_rpcs", _RPC),
        stateful=stateful,
    )
    if spec.grpc_port == spec.health_port:
        raise ManifestError(f"{where}: grpc_port and health_port must differ")
    return spec


def _check_unique_ports(specs: list[ServiceSpec], source: str) -> None:
    owners: dict[int, str] = {}
    for spec in specs:
        for port in (spec.grpc_port, spec.health_port):
            if port in owners:
                raise ManifestError(f"{source}: port {port} used by {owners[port]} and {spec.name}")
            owners[port] = spec.name


def _dependency_order(specs: list[ServiceSpec], source: str) -> tuple[ServiceSpec, ...]:
    by_name = {s.name: s for s in specs}
    for spec in specs:
        for dep in spec.depends_on:
            if dep not in by_name:
                raise ManifestError(f"{source}: {spec.name} depends on unknown service {dep!r}")
    ordered: list[ServiceSpec] = []
    state: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise ManifestError(f"{source}: dependency cycle {' -> '.join((*path, name))}")
        state[name] = "visiting"
        for dep in by_name[name].depends_on:
            visit(dep, (*path, name))
        state[name] = "done"
        ordered.append(by_name[name])

    for spec in specs:
        visit(spec.name, ())
    return tuple(ordered)
