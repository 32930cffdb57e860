"""The manifest loads into a validated, dependency-ordered view; bad entries fail by name."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from meshkit.manifest import GatewaySpec, ManifestError, load_manifest, parse_manifest

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


WITH_GATEWAY: dict[str, Any] = {
    **GOOD,
    "gateway": {"module": "gateway", "http_port": 8200, "upstreams": ["front", "back"]},
}


def _with(path: str, value: object, base: dict[str, Any] = GOOD) -> dict[str, Any]:
    raw = copy.deepcopy(base)
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
        ("services.front.env", {"lower": "x"}, "env must map UPPER_CASE names to strings"),
        ("services.front.env", {"FANOUT": 1}, "env must map UPPER_CASE names to strings"),
        ("services.front.rest_port", 50100, "must differ"),
        ("services.front.single_task", "yes", "single_task must be a boolean"),
    ],
)
def test_invalid_entries_are_rejected_naming_them(path: str, value: object, message: str) -> None:
    """Each malformed value fails at load time with a message naming the entry."""
    with pytest.raises(ManifestError) as caught:
        parse_manifest(_with(path, value))
    assert message in str(caught.value)


def test_shipped_manifest_has_a_gateway_in_front_of_every_service() -> None:
    """services/mesh.toml runs `python -m gateway` on 8080 fronting all five services."""
    manifest = load_manifest()
    assert manifest.gateway == GatewaySpec(
        module="gateway",
        http_port=8080,
        upstreams=("catalog", "pricing", "inventory", "payments", "orders"),
    )
    assert manifest.gateway.name == "gateway"


def test_gateway_table_is_parsed_and_leaves_services_unchanged() -> None:
    """[gateway] becomes Manifest.gateway; Manifest.services stays the gRPC services only."""
    manifest = parse_manifest(WITH_GATEWAY)
    assert manifest.gateway == GatewaySpec("gateway", 8200, ("front", "back"))
    assert manifest.services == parse_manifest(GOOD).services


def test_manifest_without_gateway_table_has_no_gateway() -> None:
    """The [gateway] table is optional."""
    assert parse_manifest(GOOD).gateway is None


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("gateway", "gateway", "[gateway]: must be a table"),
        ("gateway.http_port", 80, "[gateway].http_port must be an integer in 1024..65535"),
        ("gateway.http_port", True, "[gateway].http_port must be an integer"),
        ("gateway.http_port", 50101, "port 50101 used by back and gateway"),
        ("gateway.http_port", 8100, "port 8100 used by front and gateway"),
        (
            "gateway.upstreams",
            ["front", "nowhere"],
            "[gateway].upstreams: unknown service 'nowhere'",
        ),
        ("gateway.upstreams", [], "[gateway].upstreams must name at least one service"),
        ("gateway.upstreams", ["front", "front"], "[gateway].upstreams has duplicates"),
        ("gateway.upstreams", "front", "[gateway].upstreams must be a list of strings"),
        ("gateway.module", 1, "[gateway]: module must be a string"),
        ("gateway.colour", "blue", "[gateway]: unknown keys ['colour']"),
        (
            "services.gateway",
            {"grpc_port": 50102, "health_port": 8102, "proto_services": ["shop.gw.v1.GwService"]},
            "[services.gateway] clashes with [gateway]",
        ),
    ],
)
def test_invalid_gateway_entries_are_rejected_naming_them(
    path: str, value: object, message: str
) -> None:
    """Each malformed [gateway] value fails at load time with a message naming the entry."""
    with pytest.raises(ManifestError) as caught:
        parse_manifest(_with(path, value, WITH_GATEWAY))
    assert message in str(caught.value)


def test_env_and_rest_port_are_optional_and_read() -> None:
    """A service may name extra environment for its process and a REST port."""
    raw = _with("services.front.env", {"SHOPMESH_GRPC_FANOUT": "per-item"})
    raw["services"]["front"]["rest_port"] = 9100
    front = parse_manifest(raw).service("front")
    assert (dict(front.env), front.rest_port) == ({"SHOPMESH_GRPC_FANOUT": "per-item"}, 9100)
    assert (
        dict(parse_manifest(GOOD).service("back").env),
        parse_manifest(GOOD).service("back").rest_port,
    ) == ({}, 0)
