"""The mesh manifest (services/mesh.toml): one typed, validated view for every reader.

The local runner, the CloudFormation generator and the load test all load it through
``load_manifest``; invalid values fail here, at load time, with a message naming them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The tree the manifest's relative paths (Go packages and binaries) start from."""
DEFAULT_MANIFEST = PROJECT_ROOT / "services" / "mesh.toml"
"""The shop's manifest: it lives with the services it lists (the ``services`` package sits
beside this one in the source tree and in site-packages alike)."""

PYTHON, GO = "python", "go"
IMPLEMENTATIONS = (PYTHON, GO)
"""The languages a service may be implemented in: Python (``module``, run with
``python -m``) and Go (a ``[services.<name>.go]`` table: a package built to a binary)."""

# Service names double as Service Connect aliases and VPC Lattice service names
# (3-40 chars of [a-z0-9-]); keep the stricter common subset.
_NAME = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
_PROTO_SERVICE = re.compile(
    r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.v\d+\.[A-Z][A-Za-z0-9]*Service$"
)
_RPC = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_GO_PACKAGE = re.compile(r"^\./[a-z0-9_/-]+$")
_RELATIVE_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")

GATEWAY_NAME = "gateway"
"""What the [gateway] table is called wherever services are listed (runner, ``--only``)."""


class ManifestError(ValueError):
    """The manifest is malformed; the message names the offending entry."""


@dataclass(frozen=True)
class GoBuild:
    """A service's Go implementation: the package ``make go-build`` builds and the binary
    it writes, both relative to the project root."""

    package: str
    binary: str

    @property
    def binary_path(self) -> Path:
        return PROJECT_ROOT / self.binary


@dataclass(frozen=True)
class ServiceSpec:
    """One service of the mesh."""

    name: str
    module: str
    grpc_port: int
    health_port: int
    rest_port: int
    """Port of the REST/JSON baseline adapter (HTTP/1.1, its own /healthz and /metrics);
    0 when the service has none."""
    proto_services: tuple[str, ...]
    depends_on: tuple[str, ...]
    streaming_rpcs: tuple[str, ...]
    stateful: bool
    env: Mapping[str, str] = field(default_factory=dict)
    single_task: bool = False
    """Runs as exactly one task even when its data could be shared: it coordinates
    requests in its own memory (orders: in-flight placements, saga recovery)."""
    """Extra environment of the service's process (below the variables that place it in
    a mesh): how the load test starts an orders variant with another fan-out, say."""
    impl: str = PYTHON
    """The implementation run unless another is chosen (``make run IMPL=go``)."""
    go: GoBuild | None = None
    """Its Go implementation, if it has one."""

    @property
    def implementations(self) -> tuple[str, ...]:
        """The implementations this service has, Python first."""
        return tuple(
            impl
            for impl, present in ((PYTHON, bool(self.module)), (GO, self.go is not None))
            if present
        )

    @property
    def streams(self) -> bool:
        """True when any RPC streams, so proxies must not time requests out."""
        return bool(self.streaming_rpcs)


@dataclass(frozen=True)
class GatewaySpec:
    """The REST/JSON edge gateway: one plain-HTTP port in front of some services' public
    RPCs (``upstreams``). Not a gRPC service, so not one of ``Manifest.services``."""

    module: str
    http_port: int
    upstreams: tuple[str, ...]

    @property
    def name(self) -> str:
        """``gateway``, its name next to the services' (runner table, logs, ``--only``)."""
        return GATEWAY_NAME


@dataclass(frozen=True)
class Manifest:
    """Every gRPC service, in a start order where dependencies come first, and the
    optional gateway in front of them."""

    name: str
    services: tuple[ServiceSpec, ...]
    gateway: GatewaySpec | None = None

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
    gateway = None
    if "gateway" in raw:
        gateway = _parse_gateway(raw["gateway"], {s.name for s in specs}, source)
    _check_unique_ports(specs, gateway, source)
    return Manifest(name=name, services=_dependency_order(specs, source), gateway=gateway)


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
        "rest_port",
        "proto_services",
        "depends_on",
        "streaming_rpcs",
        "stateful",
        "env",
        "single_task",
        "impl",
        GO,
    }
    unknown = sorted(set(table) - known)
    if unknown:
        raise ManifestError(f"{where}: unknown keys {unknown}")

    module = table.get("module", "")
    stateful = table.get("stateful", False)
    single_task = table.get("single_task", False)
    if not isinstance(module, str) or not isinstance(stateful, bool):
        raise ManifestError(f"{where}: module must be a string and stateful a boolean")
    if not isinstance(single_task, bool):
        raise ManifestError(f"{where}: single_task must be a boolean")
    proto_services = _strings(table, "proto_services", where, _PROTO_SERVICE)
    if not proto_services:
        raise ManifestError(f"{where}.proto_services must name at least one gRPC service")
    spec = ServiceSpec(
        name=name,
        module=module,
        grpc_port=_port(table, "grpc_port", where),
        health_port=_port(table, "health_port", where),
        rest_port=_port(table, "rest_port", where) if "rest_port" in table else 0,
        proto_services=proto_services,
        depends_on=_strings(table, "depends_on", where, _NAME),
        streaming_rpcs=_strings(table, "streaming_rpcs", where, _RPC),
        stateful=stateful,
        env=_env(table.get("env", {}), where),
        single_task=single_task,
        impl=_impl(table.get("impl", PYTHON), where),
        go=_go(table[GO], where) if GO in table else None,
    )
    # Without an explicit impl, a service with no module stays as before: the runner's
    # pre-flight says it cannot run locally.
    if "impl" in table and spec.impl not in spec.implementations:
        raise ManifestError(
            f"{where}.impl is {spec.impl!r}, but the service has no {spec.impl} implementation"
            f" (has: {', '.join(spec.implementations) or 'none'})"
        )
    if len({spec.grpc_port, spec.health_port, spec.rest_port}) < 3:
        raise ManifestError(f"{where}: grpc_port, health_port and rest_port must differ")
    return spec


def _parse_gateway(table: Any, services: set[str], source: str) -> GatewaySpec:
    where = f"{source}: [{GATEWAY_NAME}]"
    if not isinstance(table, dict):
        raise ManifestError(f"{where}: must be a table")
    unknown = sorted(set(table) - {"module", "http_port", "upstreams"})
    if unknown:
        raise ManifestError(f"{where}: unknown keys {unknown}")
    module = table.get("module", "")
    if not isinstance(module, str):
        raise ManifestError(f"{where}: module must be a string")
    http_port = _port(table, "http_port", where)
    upstreams = _strings(table, "upstreams", where, _NAME)
    if not upstreams:
        raise ManifestError(f"{where}.upstreams must name at least one service")
    for name in upstreams:
        if name not in services:
            raise ManifestError(f"{where}.upstreams: unknown service {name!r}")
    # The runner lists the gateway by this name next to the services: it must be unique.
    if GATEWAY_NAME in services:
        raise ManifestError(f"{source}: [services.{GATEWAY_NAME}] clashes with [{GATEWAY_NAME}]")
    return GatewaySpec(module=module, http_port=http_port, upstreams=upstreams)


def _impl(value: Any, where: str) -> str:
    if value not in IMPLEMENTATIONS:
        raise ManifestError(
            f"{where}.impl: unknown implementation {value!r}; known: {', '.join(IMPLEMENTATIONS)}"
        )
    return str(value)


def _go(table: Any, where: str) -> GoBuild:
    where = f"{where}.{GO}"
    if not isinstance(table, dict):
        raise ManifestError(f"{where}: must be a table")
    unknown = sorted(set(table) - {"package", "binary"})
    if unknown:
        raise ManifestError(f"{where}: unknown keys {unknown}")
    package, binary = table.get("package"), table.get("binary")
    if not isinstance(package, str) or not _GO_PACKAGE.match(package):
        raise ManifestError(f"{where}.package must be a Go package path like ./services/x/go")
    if not isinstance(binary, str) or not _RELATIVE_PATH.match(binary) or ".." in binary:
        raise ManifestError(f"{where}.binary must be a path in the project, like build/go/bin/x")
    return GoBuild(package=package, binary=binary)


def _env(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and _ENV_NAME.match(k) and isinstance(v, str) for k, v in value.items()
    ):
        raise ManifestError(f"{where}.env must map UPPER_CASE names to strings")
    return dict(value)


def _port(table: Mapping[str, Any], key: str, where: str) -> int:
    value = table.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 1024 <= value <= 65535:
        raise ManifestError(f"{where}.{key} must be an integer in 1024..65535, got {value!r}")
    return value


def _strings(
    table: Mapping[str, Any], key: str, where: str, pattern: re.Pattern[str]
) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"{where}.{key} must be a list of strings")
    for item in value:
        if not pattern.match(item):
            raise ManifestError(f"{where}.{key}: {item!r} must match {pattern.pattern}")
    if len(set(value)) != len(value):
        raise ManifestError(f"{where}.{key} has duplicates")
    return tuple(value)


def _check_unique_ports(specs: list[ServiceSpec], gateway: GatewaySpec | None, source: str) -> None:
    owned = [
        (port, spec.name)
        for spec in specs
        for port in (spec.grpc_port, spec.health_port, spec.rest_port)
        if port
    ]
    if gateway is not None:
        owned.append((gateway.http_port, gateway.name))
    owners: dict[int, str] = {}
    for port, owner in owned:
        if port in owners:
            raise ManifestError(f"{source}: port {port} used by {owners[port]} and {owner}")
        owners[port] = owner


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
