"""The runner's pure parts for the REST/JSON baseline: the environment, data and names of
a REST service process, its ports and table rows, and ``--transport`` on the command line."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest

from meshkit.manifest import Manifest, load_manifest, parse_manifest
from meshkit.runtime.config import TRANSPORTS, runtime_config_from_env
from runner import LocalMesh, MeshGroup, TransportError, cli, plan, preflight, table

SHOP = load_manifest()
"""services/mesh.toml: five services with REST ports, orders calling the other four."""


def _without_rest_ports() -> Manifest:
    return parse_manifest(
        {
            "mesh": {"name": "test"},
            "services": {
                "catalog": {
                    "module": "services.catalog",
                    "grpc_port": 50051,
                    "health_port": 8051,
                    "proto_services": ["shopmesh.catalog.v1.CatalogService"],
                }
            },
        }
    )


def _env(name: str, transport: str, base_env: dict[str, str] | None = None) -> dict[str, str]:
    return plan.child_env(
        SHOP.service(name),
        SHOP,
        host="127.0.0.1",
        data_dir=Path("/d"),
        drain_delay_s=0.5,
        grace_s=5.0,
        base_env=base_env or {},
        transport=transport,
    )


def test_transport_words_are_the_ones_the_runtime_reads() -> None:
    """plan's GRPC and REST are exactly the words SHOPMESH_TRANSPORT accepts."""
    assert (plan.GRPC, plan.REST) == TRANSPORTS


def test_rest_child_env_serves_the_rest_port_only_and_calls_dependencies_over_rest() -> None:
    """A REST orders process gets the REST transport and port, no gRPC or health port, its
    data under DATA_DIR/rest, and each dependency's REST host:port, over inherited values."""
    env = _env("orders", plan.REST, {"PATH": "/bin", "SHOPMESH_TRANSPORT": "grpc"})
    assert env["PATH"] == "/bin"
    assert env["SHOPMESH_TRANSPORT"] == "rest"
    assert env["SHOPMESH_REST_PORT"] == "9055"
    assert "SHOPMESH_GRPC_PORT" not in env
    assert "SHOPMESH_HEALTH_PORT" not in env
    assert env["SHOPMESH_HOST"] == "127.0.0.1"
    assert env["SHOPMESH_DATA_DIR"] == str(Path("/d/rest/orders"))
    assert (env["SHOPMESH_DRAIN_DELAY_S"], env["SHOPMESH_GRACE_S"]) == ("0.5", "5.0")
    addresses = {name: env[f"SHOPMESH_{name.upper()}_ADDR"] for name in ("catalog", "payments")}
    assert addresses == {"catalog": "127.0.0.1:9051", "payments": "127.0.0.1:9054"}


def test_rest_child_env_is_read_back_by_the_runtime_config() -> None:
    """The runtime's own reader finds REST transport, port, host and every dependency's
    REST address in the environment the runner builds."""
    config = runtime_config_from_env(SHOP, "orders", _env("orders", plan.REST))
    assert (config.transport, config.rest_port, config.host) == ("rest", 9055, "127.0.0.1")
    assert config.dependencies == {
        "catalog": "127.0.0.1:9051",
        "pricing": "127.0.0.1:9052",
        "inventory": "127.0.0.1:9053",
        "payments": "127.0.0.1:9054",
    }


def test_grpc_child_env_pins_grpc_over_an_inherited_rest_transport() -> None:
    """SHOPMESH_TRANSPORT=rest in the runner's environment cannot turn a gRPC mesh's
    service into a REST one; its data stays in DATA_DIR/<service>."""
    env = _env("orders", plan.GRPC, {"SHOPMESH_TRANSPORT": "rest"})
    config = runtime_config_from_env(SHOP, "orders", env)
    assert (config.transport, config.grpc_port) == ("grpc", 50055)
    assert config.dependencies["catalog"] == "127.0.0.1:50051"
    assert env["SHOPMESH_DATA_DIR"] == str(Path("/d/orders"))


def test_rest_names_addresses_and_health_urls() -> None:
    """Over REST a service is ``<name>-rest`` at its REST base URL with /healthz there;
    over gRPC its name and addresses are unchanged."""
    spec = SHOP.service("inventory")
    assert plan.process_name("inventory", plan.REST) == "inventory-rest"
    assert plan.process_name("inventory", plan.GRPC) == "inventory"
    assert plan.address(spec, "0.0.0.0", plan.REST) == "http://127.0.0.1:9053"  # noqa: S104
    assert plan.healthz_url(spec, "::1", plan.REST) == "http://[::1]:9053/healthz"
    assert plan.address(spec, "127.0.0.1", plan.GRPC) == "127.0.0.1:50053"
    assert plan.healthz_url(spec, "127.0.0.1") == "http://127.0.0.1:8053/healthz"


def test_check_transport_names_every_service_without_a_rest_port() -> None:
    """REST needs a rest_port on every selected service; gRPC does not; other words fail."""
    services = _without_rest_ports().services
    with pytest.raises(TransportError, match=r"cannot run over REST: .* for catalog"):
        plan.check_transport(services, plan.REST)
    plan.check_transport(services, plan.GRPC)
    with pytest.raises(TransportError, match="'http3'"):
        plan.check_transport(services, "http3")


def test_check_ports_over_rest_checks_the_rest_port_and_points_at_rest_status() -> None:
    """A taken REST port fails a REST pre-flight naming it (and only it: a REST service
    opens no gRPC or health port), with the REST status command."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        specs = parse_manifest(
            {
                "mesh": {"name": "test"},
                "services": {
                    "pricing": {
                        "module": "m",
                        "grpc_port": 50052,
                        "health_port": 8052,
                        "rest_port": port,
                        "proto_services": ["shopmesh.pricing.v1.PricingService"],
                    }
                },
            }
        ).services
        with pytest.raises(preflight.PortsInUse) as caught:
            preflight.check_ports(specs, "127.0.0.1", transport=plan.REST)
    assert caught.value.taken == (preflight.TakenPort(port, "pricing", "REST"),)
    message = str(caught.value)
    assert f"port {port} (pricing REST) on 127.0.0.1 is already in use" in message
    assert "`python -m runner status --transport rest`" in message


def test_render_table_shows_rest_rows_by_process_name_and_url() -> None:
    """Golden table: REST rows carry the -rest name, the base URL and its /healthz."""
    rows = table.rows(
        SHOP.services[:2],
        "127.0.0.1",
        {"catalog-rest": "SERVING"},
        {"catalog-rest": 7},
        transport=plan.REST,
    )
    assert table.render_table(rows) == (
        "SERVICE       ADDRESS                HEALTHZ                        STATE    PID\n"
        "catalog-rest  http://127.0.0.1:9051  http://127.0.0.1:9051/healthz  SERVING  7\n"
        "pricing-rest  http://127.0.0.1:9052  http://127.0.0.1:9052/healthz  UNKNOWN"
    )


def test_render_rest_curl_golden_block_for_pricing() -> None:
    """Golden block: a heading with the process name, the examples, /healthz and /metrics."""
    assert table.render_rest_curl([SHOP.service("pricing")], "127.0.0.1") == (
        "# pricing-rest (REST/JSON baseline)\n"
        "curl -s http://127.0.0.1:9052/v1/quotes -H 'content-type: application/json'"
        """ -d '{"items":[{"sku":"SKU-00042","quantity":2}],"region":"DE"}'\n"""
        "curl -s http://127.0.0.1:9052/healthz\n"
        "curl -s http://127.0.0.1:9052/metrics"
    )


def test_local_mesh_over_rest_has_rest_urls_names_and_no_gateway(tmp_path: Path) -> None:
    """A REST LocalMesh exposes its transport, REST URLs and -rest process names, leaves the
    gateway out and has no gRPC addresses; a gRPC one is the other way round."""
    rest = LocalMesh(SHOP, data_dir=tmp_path, transport=plan.REST)
    assert rest.transport == "rest"
    assert rest.gateway is None
    assert rest.gateway_url is None
    assert rest.addresses == {}
    assert rest.rest_url("orders") == "http://127.0.0.1:9055"
    assert set(rest.rest_urls) == {spec.name for spec in SHOP.services}
    assert rest.process_names[-1] == "orders-rest"
    grpc = LocalMesh(SHOP, data_dir=tmp_path)
    assert (grpc.transport, grpc.rest_urls) == ("grpc", {})
    assert grpc.address("orders") == "127.0.0.1:50055"
    assert grpc.process_names[-2:] == ("orders", "gateway")


def test_local_mesh_over_rest_refuses_a_service_without_a_rest_port(tmp_path: Path) -> None:
    """Constructing a REST mesh of a service with no rest_port fails by name at once."""
    with pytest.raises(TransportError, match="catalog"):
        LocalMesh(_without_rest_ports(), data_dir=tmp_path, transport=plan.REST)


def test_mesh_group_refuses_meshes_whose_process_names_clash(tmp_path: Path) -> None:
    """Two gRPC meshes in one group would share log prefixes and pids: refused; a gRPC and
    a REST mesh are fine."""
    with pytest.raises(ValueError, match="differ by name"):
        MeshGroup([LocalMesh(SHOP, data_dir=tmp_path), LocalMesh(SHOP, data_dir=tmp_path)])
    both = MeshGroup(LocalMesh(SHOP, data_dir=tmp_path, transport=t) for t in TRANSPORTS)
    assert [mesh.transport for mesh in both.meshes] == ["grpc", "rest"]


@pytest.mark.parametrize(
    ("flag", "env", "expected"),
    [
        (None, {}, ("grpc",)),
        (None, {"MESH_TRANSPORT": ""}, ("grpc",)),
        (None, {"MESH_TRANSPORT": "rest"}, ("rest",)),
        ("grpc", {"MESH_TRANSPORT": "rest"}, ("grpc",)),
        ("both", {}, ("grpc", "rest")),
    ],
)
def test_chosen_transports_flag_then_environment_then_grpc(
    flag: str | None, env: dict[str, str], expected: tuple[str, ...]
) -> None:
    """--transport wins over $MESH_TRANSPORT, which wins over grpc; both is gRPC then REST."""
    assert cli.chosen_transports(flag, env) == expected


def test_parser_reads_transport_for_run_and_status_and_refuses_other_words() -> None:
    """Both commands take --transport grpc|rest|both (unset: None, so the env can decide)."""
    parser = cli.build_parser()
    assert parser.parse_args(["run", "--transport", "both"]).transport == "both"
    assert parser.parse_args(["status", "--transport", "rest"]).transport == "rest"
    assert parser.parse_args(["run"]).transport is None
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["run", "--transport", "http3"])
    assert exited.value.code == 2


def _main(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(argv, env, out, err)
    assert out.getvalue() == ""  # refused before anything is checked or started
    return status, err.getvalue()


def test_main_exits_2_for_an_unknown_mesh_transport_in_the_environment() -> None:
    """A bad $MESH_TRANSPORT is refused by name with exit 2, before any work."""
    status, err = _main(["status"], {"MESH_TRANSPORT": "http3"})
    assert status == 2
    assert err == "mesh: MESH_TRANSPORT must be one of grpc, rest, both, got 'http3'\n"


@pytest.mark.parametrize("transport", ["rest", "both"])
def test_main_exits_2_when_a_service_has_no_rest_port(tmp_path: Path, transport: str) -> None:
    """run --transport rest (or both) on a manifest without rest ports exits 2 naming the
    service, starting nothing."""
    manifest = tmp_path / "mesh.toml"
    manifest.write_text(
        '[mesh]\nname = "test"\n[services.catalog]\nmodule = "services.catalog"\n'
        "grpc_port = 50051\nhealth_port = 8051\n"
        'proto_services = ["shopmesh.catalog.v1.CatalogService"]\n',
        encoding="utf-8",
    )
    status, err = _main(["run", "--manifest", str(manifest), "--transport", transport], {})
    assert status == 2
    assert err.startswith("mesh: cannot run over REST: no rest_port in the manifest for catalog")
