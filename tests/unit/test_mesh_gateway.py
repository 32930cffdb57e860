"""The runner's pure parts for the gateway: selection, environment, table, curl block,
pre-flight and the HTTP health check (curl lines: test_mesh_curl.py)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from gateway.config import gateway_config_from_env
from meshkit.examples import load_examples
from meshkit.manifest import GatewaySpec, Manifest, parse_manifest
from runner import plan, preflight, probe, table

BASE = "http://127.0.0.1:8080"


def _manifest(gateway: bool = True) -> Manifest:
    def service(port: int, proto: str, depends_on: list[str]) -> dict[str, object]:
        return {
            "module": "services.x",
            "grpc_port": port,
            "health_port": port + 1000,
            "proto_services": [proto],
            "depends_on": depends_on,
        }

    raw: dict[str, object] = {
        "mesh": {"name": "test"},
        "services": {
            "catalog": service(50051, "shopmesh.catalog.v1.CatalogService", []),
            "pricing": service(50052, "shopmesh.pricing.v1.PricingService", ["catalog"]),
            "extra": service(50060, "shopmesh.extra.v1.ExtraService", []),
        },
    }
    if gateway:
        raw["gateway"] = {"module": "gateway", "http_port": 8080, "upstreams": ["pricing"]}
    return parse_manifest(raw)


def _gateway() -> GatewaySpec:
    gateway = _manifest().gateway
    assert gateway is not None
    return gateway


def _names(manifest: Manifest, only: list[str]) -> list[str]:
    return [spec.name for spec in plan.select_services(manifest, only)]


def test_select_gateway_runs_it_when_every_upstream_is_selected() -> None:
    """With everything selected, or a service that pulls in its upstreams, it runs."""
    manifest = _manifest()
    assert plan.select_gateway(manifest, manifest.services) == manifest.gateway
    pricing_only = plan.select_services(manifest, ["pricing"])
    assert plan.select_gateway(manifest, pricing_only) == manifest.gateway


def test_select_gateway_leaves_it_out_when_an_upstream_is_missing_or_it_is_off() -> None:
    """--only catalog (not pricing) runs no gateway; nor does --no-gateway or no table."""
    manifest = _manifest()
    assert plan.select_gateway(manifest, plan.select_services(manifest, ["catalog"])) is None
    assert plan.select_gateway(manifest, manifest.services, enabled=False) is None
    without = _manifest(gateway=False)
    assert plan.select_gateway(without, without.services) is None


def test_only_gateway_selects_its_upstreams_and_their_dependencies() -> None:
    """--only gateway runs what the gateway calls (dependencies first) and the gateway."""
    manifest = _manifest()
    assert _names(manifest, ["gateway"]) == ["catalog", "pricing"]
    selected = plan.select_services(manifest, ["gateway"])
    assert plan.select_gateway(manifest, selected) == manifest.gateway


def test_only_gateway_is_unknown_without_a_gateway_table() -> None:
    """Without [gateway], the name is as unknown as any other; with it, it is listed."""
    with pytest.raises(plan.SelectionError, match="unknown service"):
        plan.select_services(_manifest(gateway=False), ["gateway"])
    with pytest.raises(plan.SelectionError, match="'gateway'"):
        plan.select_services(_manifest(), ["nope"])


def test_gateway_env_is_read_back_by_the_gateway_config() -> None:
    """The gateway's own config reader finds its host, port, graces and upstream address in
    the environment the runner builds, and the runner's values win over inherited ones."""
    manifest = _manifest()
    env = plan.gateway_env(
        _gateway(),
        manifest,
        host="127.0.0.1",
        drain_delay_s=0.25,
        grace_s=2.0,
        base_env={"PATH": "/bin", "GATEWAY_PORT": "1", "GATEWAY_LOG_LEVEL": "DEBUG"},
    )
    config = gateway_config_from_env(manifest, env)
    assert (config.host, config.port, config.log_level) == ("127.0.0.1", 8080, "DEBUG")
    assert (config.edge.drain_grace_s, config.edge.shutdown_grace_s) == (0.25, 2.0)
    assert config.admin_routes is False  # the local gateway routes public RPCs only
    assert config.upstreams["shopmesh.pricing.v1.PricingService"] == "127.0.0.1:50052"
    assert env["PATH"] == "/bin"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert "SHOPMESH_CATALOG_ADDR" not in env  # only its upstreams


def test_gateway_urls_dial_loopback_and_bracket_ipv6() -> None:
    """The base and health URLs use the dialable host, bracketed for IPv6."""
    assert plan.gateway_url(_gateway(), "0.0.0.0") == BASE  # noqa: S104
    assert plan.gateway_healthz_url(_gateway(), "::1") == "http://[::1]:8080/healthz"


def test_render_table_adds_the_gateway_row_with_its_url() -> None:
    """Golden table: the gateway comes last with its HTTP URL in the ADDRESS column."""
    manifest = _manifest()
    states = {"catalog": "SERVING", "gateway": "SERVING"}
    rows = table.rows(manifest.services[:1], "127.0.0.1", states, {"gateway": 7}, _gateway())
    assert table.render_table(rows) == (
        "SERVICE  ADDRESS                HEALTHZ                         STATE    PID\n"
        "catalog  127.0.0.1:50051        http://127.0.0.1:51051/healthz  SERVING\n"
        "gateway  http://127.0.0.1:8080  http://127.0.0.1:8080/healthz   SERVING  7"
    )


def test_render_curl_has_heading_examples_health_and_docs() -> None:
    """The block starts with its heading and ends with /healthz and the /docs URL."""
    block = table.render_curl(_gateway(), "127.0.0.1").splitlines()
    assert block[0] == "# gateway (REST/JSON)"
    assert len(block) == 1 + len(load_examples().gateway) + 2
    assert "curl -s http://127.0.0.1:8080/openapi.json | head -c 300" in block[-3]
    assert block[-2] == "curl -s http://127.0.0.1:8080/healthz"
    assert block[-1].endswith("http://127.0.0.1:8080/docs")


def test_check_ports_names_the_gateway_port_when_it_is_taken() -> None:
    """A listener on the gateway's port makes pre-flight fail naming it as the gateway's."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        gateway = GatewaySpec("gateway", port, ("catalog",))
        with pytest.raises(preflight.PortsInUse) as caught:
            preflight.check_ports([], "127.0.0.1", gateway)
    assert f"port {port} (gateway HTTP)" in str(caught.value)


def test_check_modules_suggests_no_gateway_for_a_missing_gateway_module() -> None:
    """A gateway module that cannot run fails pre-flight pointing at --no-gateway."""
    with pytest.raises(preflight.PreflightError, match=r"gateway: .*--no-gateway"):
        preflight.check_modules([], GatewaySpec("no_such_gateway_module", 8080, ("catalog",)))


@asynccontextmanager
async def _http_server(reply: bytes | None) -> AsyncIterator[str]:
    """A server on a free port answering every request with ``reply`` (None: never)."""
    never = asyncio.Event()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if reply is None:
            await never.wait()
        else:
            writer.write(reply)
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/healthz"
    finally:
        never.set()
        server.close()
        await asyncio.wait_for(server.wait_closed(), 5)


@pytest.mark.parametrize(
    ("reply", "state"),
    [
        (b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", probe.SERVING),
        (b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n", probe.NOT_SERVING),
        (b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n", "HTTP 404"),
        (b"SSH-2.0-OpenSSH\r\n", probe.UNREACHABLE),
    ],
)
async def test_check_http_reduces_the_status_line_to_a_state(reply: bytes, state: str) -> None:
    """200 is SERVING, 503 NOT_SERVING (draining), other codes HTTP <code>, non-HTTP none."""
    async with _http_server(reply) as url:
        assert await probe.check_http(url, timeout_s=5) == state


async def test_check_http_is_unreachable_when_nothing_listens() -> None:
    """A refused connection is UNREACHABLE, not an exception."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert await probe.check_http(f"http://127.0.0.1:{port}/healthz") == probe.UNREACHABLE


async def test_check_http_gives_up_at_its_timeout_when_no_answer_comes() -> None:
    """A server that accepts but never answers is UNREACHABLE after the timeout, no later."""
    async with _http_server(None) as url:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await probe.check_http(url, timeout_s=0.2) == probe.UNREACHABLE
        assert loop.time() - started < 2
