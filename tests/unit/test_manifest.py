"""The manifest loads into a validated, dependency-ordered view; bad entries fail by name."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from services.manifest import ManifestError, load_manifest, parse_manifest

GOOD: dict[str, Any] = {
    "mesh": {"name": "shop"},
    "services": {
        "front": {
            "grpc_port": 50100,
            "health_port": 8100,
            "proto_services": ["shop.front.v1.FrontService"],
            "depends_on": ["back"],
        },
        "back": {
            "grpc_port": 50101,
            "health_port": 8101,
            "proto_services": ["shop.back.v1.BackService"],
            "streaming_rpcs": ["Watch"],
        },
    },
}


def _with(path: str, value: object) -> dict[str, Any]:
    raw = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    target = raw
    for key in parents:
        target = target[key]
    target[last] = value
    return raw


def test_shipped_manifest_lists_the_five_services_dependencies_first() -> None:
    """services/mesh.toml loads, and orders comes after everything it calls."""
    manifest = load_manifest()
    names = [s.name for s in manifest.services]
    assert sorted(names) == ["catalog", "inventory", "orders", "payments", "pricing"]
    assert names[-1] == "orders"
    assert manifest.service("orders").depends_on == ("catalog", "pricing", "inventory", "payments")


def test_services_are_ordered_so_dependencies_start_first() -> None:
    """A service is listed after the services it depends on, whatever the file order."""
    manifest = parse_manifest(GOOD)
    assert [s.name for s in manifest.services] == ["back", "front"]
    assert manifest.service("back").streams


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("services.front.grpc_port", 80, "grpc_port must be an integer in 1024..65535"),
        ("services.front.health_port", 50101, "port 50101 used by"),
        ("services.front.depends_on", ["nowhere"], "depends on unknown service 'nowhere'"),
        ("services.back.depends_on", ["front"], "dependency cycle"),
        ("services.front.proto_services", ["Front"], "proto_services: 'Front' must match"),
        ("services.front.colour", "blue", "unknown keys ['colour']"),
        ("services.front.streaming_rpcs", ["watch"], "streaming_rpcs: 'watch' must match"),
        ("mesh.name", "Shop!", "[mesh].name must match"),
    ],
)
def test_invalid_entries_are_rejected_naming_them(path: str, value: object, message: str) -> None:
    """Each malformed value fails at load time with a message naming the entry."""
    with pytest.raises(ManifestError) as caught:
        parse_manifest(_with(path, value))
    assert message in str(caught.value)
