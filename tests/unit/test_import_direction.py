"""Imports point down the architecture only: contract → shared platform (meshkit) →
services → edge (gateway) → deployment targets (runner, cloudformation) → measurement
(loadtest, tools). A service is imported by nobody but itself, domain code never imports
a transport, and each layer reaches another only through what it is allowed to see.

Every import counts, including those inside functions (lazy imports) and under
TYPE_CHECKING; the check reads the source with ``ast`` and imports nothing.
"""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("meshkit", "services", "gateway", "runner", "cloudformation", "loadtest", "tools")

MESHKIT_BASE = (
    r"meshkit(\.(env|errors|startup|probes|http_status|asgi|manifest|examples|implementations))?"
)
"""The platform's foundations: they import nothing of the platform but each other."""
MESHKIT = r"meshkit(\..+)?"
SERVICE_APIS = "services" + r"\.kernel(\..+)?"

ALLOWED: list[tuple[str, str]] = [
    # (importer pattern, imported pattern): an import of one of OURS is allowed only when
    # some row matches both full dotted names; a module may always import its own package.
    (MESHKIT_BASE, MESHKIT_BASE),
    (r"meshkit\.storage(\..+)?", MESHKIT_BASE + r"|meshkit\.storage(\..+)?"),
    (r"meshkit\.runtime(\..+)?", MESHKIT_BASE + r"|meshkit\.runtime(\..+)?"),
    (r"services\.kernel(\..+)?", MESHKIT),
    (r"services\.(?P<svc>[a-z_]+)(\..+)?", MESHKIT + "|" + SERVICE_APIS),
    (r"gateway(\..+)?", MESHKIT),
    (r"runner(\..+)?", MESHKIT),
    (r"cloudformation(\..+)?", MESHKIT),
    # The load test starts local meshes through the runner's package API only.
    (r"loadtest(\..+)?", MESHKIT + r"|runner"),
    (r"tools(\..+)?", MESHKIT + r"|runner|loadtest(\..+)?"),
    # The runtime benchmark serves the real catalog in-process, beside a bare grpc.aio
    # server running the same servicer: it measures the runtime around one service.
    (r"tools\.bench\.server", r"services\.(catalog|kernel)(\..+)?"),
]

DOMAIN_MODULES = re.compile(
    r"services\.[a-z_]+\.domain|services\.orders\.(model|saga|saga_log|events|validation"
    r"|locks|fanout|ports|records)|services\.kernel\.(money|validation|seed|clock)"
)
TRANSPORTS = re.compile(
    r"(grpc|grpc_health|grpc_reflection|google\.protobuf|google\.rpc|shopmesh|aiohttp"
    r"|uvicorn|meshkit\.runtime)(\..+)?"
)
"""What domain code must not import: it never sees gRPC, protobuf or HTTP."""


def _own_package(module: str) -> str:
    """What a module may import freely: its service, its platform subpackage (storage,
    runtime) or its top-level package; a platform foundation module only itself."""
    parts = module.split(".")
    if parts[0] == "services" or parts[:2] in (["meshkit", "storage"], ["meshkit", "runtime"]):
        return ".".join(parts[:2])
    return module if parts[0] == "meshkit" else parts[0]


def _modules(root: Path) -> Iterator[tuple[str, Path]]:
    for top in OURS:
        for path in sorted((root / top).rglob("*.py")):
            yield ".".join(path.relative_to(root).with_suffix("").parts), path


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def violations(root: Path) -> list[str]:
    """``importer -> imported`` for every import that points the wrong way under ``root``."""
    found = []
    for module, path in _modules(root):
        for imported in _imports(path):
            if DOMAIN_MODULES.fullmatch(module) and TRANSPORTS.fullmatch(imported):
                found.append(f"{module} -> {imported} (domain code imports a transport)")
                continue
            if imported.split(".")[0] not in OURS:
                continue
            if _own_package(imported) == _own_package(module):
                continue
            if not any(
                re.fullmatch(importer, module) and re.fullmatch(allowed, imported)
                for importer, allowed in ALLOWED
            ):
                found.append(f"{module} -> {imported}")
    return found


def test_no_import_points_the_wrong_way() -> None:
    """Every import of the tree follows the layering (the docstring's order)."""
    assert violations(ROOT) == []


@pytest.mark.parametrize(
    ("where", "planted", "reported"),
    [
        ("meshkit/runtime/planted.py", "import services.orders.domain", "meshkit.runtime.planted"),
        ("meshkit/env_planted.py", "from meshkit.storage import config", "meshkit.env_planted"),
        ("meshkit/storage/planted.py", "from meshkit.runtime import server", "storage.planted"),
        ("services/pricing/planted.py", "from services.catalog import domain", "services.pricing"),
        ("services/kernel/planted.py", "from services.orders import model", "services.kernel"),
        ("gateway/planted.py", "from services.catalog.domain import Catalog", "gateway.planted"),
        ("cloudformation/planted.py", "from gateway.edge import config", "cloudformation"),
        ("cloudformation/planted.py", "from runner import plan", "cloudformation.planted"),
        ("runner/planted.py", "from cloudformation import names", "runner.planted"),
        ("loadtest/planted.py", "from runner.supervisor import LocalMesh", "loadtest.planted"),
        ("services/payments/domain.py", "import grpc", "transport"),
        ("services/orders/saga.py", "from shopmesh.orders.v1 import orders_pb2", "transport"),
        ("meshkit/planted.py", "def later():\n    import runner\n", "meshkit.planted -> runner"),
    ],
)
def test_a_planted_wrong_import_is_reported(
    tmp_path: Path, where: str, planted: str, reported: str
) -> None:
    """A copy of the tree with one wrong import added fails the check, naming the module."""
    for top in OURS:
        shutil.copytree(ROOT / top, tmp_path / top, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / where
    existing = target.read_text(encoding="utf-8") if target.exists() else ""
    target.write_text(existing + "\n" + planted + "\n", encoding="utf-8")

    found = violations(tmp_path)

    assert len(found) == 1, found
    assert reported in found[0]
