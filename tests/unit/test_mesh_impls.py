"""The manifest names each service's implementations, and the runner picks one per
service: defaults, 'go' everywhere it exists, per-service choices, refusals that name
what is wrong, and the command and pre-flight of a Go service."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import pytest

from meshkit.manifest import GO, PYTHON, ManifestError, load_manifest, parse_manifest
from runner import LocalMesh, impls
from runner.preflight import PreflightError
from services.kernel.seed import seed_products


def _manifest(**pricing: Any) -> dict[str, Any]:
    return {
        "mesh": {"name": "impl-test"},
        "services": {
            "catalog": {
                "module": "services.catalog",
                "grpc_port": 7001,
                "health_port": 7002,
                "proto_services": ["shopmesh.catalog.v1.CatalogService"],
            },
            "pricing": {
                "module": "services.pricing",
                "grpc_port": 7011,
                "health_port": 7012,
                "proto_services": ["shopmesh.pricing.v1.PricingService"],
                **pricing,
            },
        },
    }


GO_TABLE = {"package": "./services/pricing/go", "binary": "build/go/bin/pricing"}


def test_shop_manifest_lists_go_pricing_and_inventory() -> None:
    """services/mesh.toml gives pricing and inventory a Go implementation, Python by default."""
    specs = {spec.name: spec for spec in load_manifest().services}
    assert [name for name, spec in specs.items() if spec.go is not None] == ["pricing", "inventory"]
    assert {spec.impl for spec in specs.values()} == {PYTHON}
    assert specs["inventory"].implementations == (PYTHON, GO)


@pytest.mark.parametrize(
    ("pricing", "message"),
    [
        (
            {"impl": "rust"},
            "[services.pricing].impl: unknown implementation 'rust'; known: python, go",
        ),
        (
            {"impl": "go"},
            "[services.pricing].impl is 'go', but the service has no go implementation",
        ),
        (
            {"go": {"package": "services/pricing", "binary": "x"}},
            "[services.pricing].go.package must be",
        ),
        ({"go": {"package": "./p", "binary": "../x"}}, "[services.pricing].go.binary must be"),
        ({"go": {**GO_TABLE, "flags": "-race"}}, "[services.pricing].go: unknown keys ['flags']"),
    ],
)
def test_manifest_refuses_unknown_or_missing_implementations(
    pricing: dict[str, Any], message: str
) -> None:
    """An unknown impl, an impl the service lacks or a malformed Go table is a
    ManifestError naming the entry."""
    with pytest.raises(ManifestError) as caught:
        parse_manifest(_manifest(**pricing))
    assert message in str(caught.value)


def test_manifest_accepts_go_as_the_default() -> None:
    """impl = "go" with a Go table makes Go the service's default."""
    spec = parse_manifest(_manifest(impl="go", go=GO_TABLE)).service("pricing")
    assert (spec.impl, spec.implementations) == (GO, (PYTHON, GO))


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("", {"catalog": PYTHON, "pricing": PYTHON}),
        ("go", {"catalog": PYTHON, "pricing": GO}),
        ("python", {"catalog": PYTHON, "pricing": PYTHON}),
        ("pricing=go", {"catalog": PYTHON, "pricing": GO}),
        (" pricing = go , catalog=python ", {"catalog": PYTHON, "pricing": GO}),
        ({"pricing": "go"}, {"catalog": PYTHON, "pricing": GO}),
    ],
)
def test_choose_picks_an_implementation_per_service(
    choice: impls.Choice, expected: dict[str, str]
) -> None:
    """'go' applies wherever a Go implementation exists; name=impl applies to one service."""
    services = parse_manifest(_manifest(go=GO_TABLE)).services
    assert impls.choose(services, choice) == expected


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ("catalog=go", "catalog has no go implementation (has: python)"),
        ("orders=go", "implementation chosen for 'orders', which is not in this mesh"),
        ("java", "unknown implementation 'java'; known: python, go"),
        ("go,python", "implementation given twice"),
    ],
)
def test_choose_refuses_what_cannot_run(choice: str, message: str) -> None:
    """A choice naming an unknown service, implementation or a missing one is refused."""
    services = parse_manifest(_manifest(go=GO_TABLE)).services
    with pytest.raises(impls.ImplementationError) as caught:
        impls.choose(services, choice)
    assert message in str(caught.value)


def test_go_service_runs_its_binary_with_the_stdin_guard() -> None:
    """A Go service starts as its binary with --guard-stdin, a Python one under runner.guard."""
    spec = parse_manifest(_manifest(go=GO_TABLE)).service("pricing")
    assert impls.command(spec, GO)[1:] == ["--guard-stdin"]
    assert impls.command(spec, GO)[0].endswith("build/go/bin/pricing")
    assert impls.command(spec, PYTHON) == [sys.executable, "-m", "runner.guard", "services.pricing"]


def test_preflight_names_a_go_binary_that_is_not_built(tmp_path: Path) -> None:
    """A mesh whose chosen Go binary does not exist fails before anything starts, with one
    line saying how to build it (or what to install)."""
    manifest = parse_manifest(_manifest(go={**GO_TABLE, "binary": "build/go/bin/not-built"}))
    mesh = LocalMesh(manifest, data_dir=tmp_path, impl="go")
    with pytest.raises(PreflightError) as caught:
        mesh.preflight()
    text = str(caught.value)
    assert text.startswith("pricing: ")
    assert "make go-build" in text
    assert "\n" not in text


def test_python_seed_matches_the_go_parity_digest() -> None:
    """The Python seed hashes to the digest the Go seed test holds
    (services/kernel/go/kernel_test.go), so both build the same catalogue."""
    lines = "".join(
        f"{p.sku}|{p.name}|{p.description}|{p.category}|{p.list_price_minor}|{p.initial_stock}|{int(p.active)}\n"
        for p in seed_products()
    )
    digest = hashlib.sha256(lines.encode()).hexdigest()
    assert digest == "90ac3d2763672505781fdd70177d84f2123f62502213199234b2473ef7c13878"
