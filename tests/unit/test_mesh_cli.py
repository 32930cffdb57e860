"""The local mesh runner's pure parts: selection, environments, log lines, tables, ports."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

import pytest

from meshkit.examples import load_examples
from meshkit.manifest import Manifest, parse_manifest
from runner import logview, plan, preflight, table
from runner.outcomes import ServiceExit, StopReport


def _manifest() -> Manifest:
    def service(port: int, proto: str, depends_on: list[str]) -> dict[str, object]:
        return {
            "module": "services.x",
            "grpc_port": port,
            "health_port": port + 1000,
            "proto_services": [proto],
            "depends_on": depends_on,
        }

    return parse_manifest(
        {
            "mesh": {"name": "test"},
            "services": {
                "orders": service(50055, "shopmesh.orders.v1.OrdersService", ["pricing"]),
                "pricing": service(50052, "shopmesh.pricing.v1.PricingService", ["catalog"]),
                "catalog": service(50051, "shopmesh.catalog.v1.CatalogService", []),
                "extra": service(50060, "shopmesh.extra.v1.ExtraService", []),
            },
        }
    )


def test_select_services_adds_transitive_dependencies_when_only_is_given() -> None:
    """--only orders also runs pricing and catalog, dependencies first, and nothing else."""
    names = [spec.name for spec in plan.select_services(_manifest(), ["orders"])]
    assert names == ["catalog", "pricing", "orders"]


def test_select_services_rejects_unknown_names() -> None:
    """A name the manifest lacks fails by name instead of being ignored."""
    with pytest.raises(plan.SelectionError, match="nope"):
        plan.select_services(_manifest(), ["catalog", "nope"])


def test_child_env_places_service_and_wins_over_inherited_values() -> None:
    """Ports, data dir, drain settings and dependency addresses override the parent's env."""
    manifest = _manifest()
    env = plan.child_env(
        manifest.service("orders"),
        manifest,
        host="127.0.0.1",
        data_dir=Path("/d"),
        drain_delay_s=0.5,
        grace_s=5.0,
        base_env={"PATH": "/bin", "SHOPMESH_GRPC_PORT": "1", "SHOPMESH_LOG_LEVEL": "DEBUG"},
    )
    assert env["PATH"] == "/bin"
    assert env["SHOPMESH_LOG_LEVEL"] == "DEBUG"
    assert env["SHOPMESH_GRPC_PORT"] == "50055"
    assert env["SHOPMESH_HEALTH_PORT"] == "51055"
    assert env["SHOPMESH_DATA_DIR"] == str(Path("/d/orders"))
    assert env["SHOPMESH_DRAIN_DELAY_S"] == "0.5"
    assert env["SHOPMESH_GRACE_S"] == "5.0"
    assert env["SHOPMESH_PRICING_ADDR"] == "127.0.0.1:50052"
    assert "SHOPMESH_CATALOG_ADDR" not in env  # only direct dependencies


def test_addresses_dial_loopback_when_bound_to_a_wildcard() -> None:
    """A mesh bound to 0.0.0.0 is still dialled and printed as 127.0.0.1; IPv6 is bracketed."""
    spec = _manifest().service("catalog")
    assert plan.grpc_address(spec, "0.0.0.0") == "127.0.0.1:50051"  # noqa: S104
    assert plan.grpc_address(spec, "::1") == "[::1]:50051"
    assert plan.healthz_url(spec, "::1") == "http://[::1]:51051/healthz"


def test_compact_shortens_access_log_lines() -> None:
    """An rpc access line becomes level, msg, method, code and duration only."""
    line = json.dumps(
        {
            "ts": "2026-01-01T00:00:00.000Z",
            "level": "INFO",
            "service": "catalog",
            "logger": "shopmesh.access",
            "msg": "rpc",
            "rpc_method": "/shopmesh.catalog.v1.CatalogService/GetProduct",
            "grpc_code": "OK",
            "duration_ms": 0.213,
            "peer": "ipv4:127.0.0.1:1234",
            "request_id": "abc",
            "operation_id": "",
        }
    )
    expected = "INFO rpc /shopmesh.catalog.v1.CatalogService/GetProduct OK 0.2ms"
    assert logview.compact(line) == expected


def test_compact_keeps_extra_fields_and_exception_text() -> None:
    """Other messages keep their extra fields as key=value and any exception on later lines."""
    line = json.dumps(
        {
            "level": "ERROR",
            "msg": "boom",
            "service": "orders",
            "grpc_port": 50055,
            "detail": "two words",
            "exception": "Traceback ...\nValueError: x",
        }
    )
    assert logview.compact(line) == (
        'ERROR boom grpc_port=50055 detail="two words"\nTraceback ...\nValueError: x'
    )


@pytest.mark.parametrize("line", ["plain text", "[1, 2]", '{"no": "msg"}', ""])
def test_compact_passes_other_lines_through_unchanged(line: str) -> None:
    """Anything that is not a JSON log object is shown exactly as written."""
    assert logview.compact(line) == line


def test_prefix_pads_and_colours_only_when_asked() -> None:
    """The prefix pads the name to the width; the ANSI colour appears only with a colour."""
    assert logview.prefix("db", 6, None) == "db     | "
    assert logview.prefix("db", 6, 36) == "\x1b[36mdb    \x1b[0m | "


def test_render_table_aligns_columns_and_shows_pids_when_known() -> None:
    """Golden table: one aligned row per service, PID column only when pids are given."""
    specs = _manifest().services[:2]
    states = {"catalog": "SERVING"}
    assert table.render_table(table.rows(specs, "127.0.0.1", states)) == (
        "SERVICE  ADDRESS          HEALTHZ                         STATE\n"
        "catalog  127.0.0.1:50051  http://127.0.0.1:51051/healthz  SERVING\n"
        "pricing  127.0.0.1:50052  http://127.0.0.1:51052/healthz  UNKNOWN"
    )
    with_pids = table.render_table(table.rows(specs, "127.0.0.1", states, {"catalog": 42}))
    assert with_pids.splitlines()[0].endswith("STATE    PID")
    assert with_pids.splitlines()[1].endswith("SERVING  42")


def test_grpcurl_commands_use_the_examples_table_and_quote_json() -> None:
    """A known service gets list, describe, its examples (shell-quoted JSON) and health."""
    commands = table.grpcurl_commands(_manifest().service("catalog"), "127.0.0.1")
    assert commands[0] == "grpcurl -plaintext 127.0.0.1:50051 list"
    assert commands[1] == (
        "grpcurl -plaintext 127.0.0.1:50051 describe shopmesh.catalog.v1.CatalogService"
    )
    assert (
        'grpcurl -plaintext -d \'{"sku":"SKU-00042"}\' 127.0.0.1:50051'
        " shopmesh.catalog.v1.CatalogService/GetProduct"
    ) in commands
    assert "grpc.health.v1.Health/Check" in commands[-2]
    assert commands[-1] == "curl -s http://127.0.0.1:51051/healthz"


def test_grpcurl_commands_for_a_service_without_examples_are_list_describe_health() -> None:
    """A service missing from the examples table still gets list, describe and health."""
    commands = table.grpcurl_commands(_manifest().service("extra"), "127.0.0.1")
    assert commands[:2] == [
        "grpcurl -plaintext 127.0.0.1:50060 list",
        "grpcurl -plaintext 127.0.0.1:50060 describe shopmesh.extra.v1.ExtraService",
    ]
    assert len(commands) == 4  # then the health check and curl


def test_examples_name_only_methods_of_their_service() -> None:
    """Every example's key is a fully qualified service and its method a bare RPC name."""
    for service, examples in load_examples().grpc.items():
        assert service.startswith("shopmesh.")
        assert service.endswith("Service")
        for example in examples:
            assert example.method.isidentifier()
            assert example.method[0].isupper()


def test_check_ports_names_the_taken_port_and_its_service() -> None:
    """A listener on a manifest port makes pre-flight fail naming that port and service."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        manifest = parse_manifest(
            {
                "mesh": {"name": "test"},
                "services": {
                    "pricing": {
                        "module": "m",
                        "grpc_port": port,
                        "health_port": port + 1 if port < 65535 else port - 1,
                        "proto_services": ["shopmesh.pricing.v1.PricingService"],
                    }
                },
            }
        )
        with pytest.raises(preflight.PortsInUse) as caught:
            preflight.check_ports(manifest.services, "127.0.0.1")
    message = str(caught.value)
    assert f"port {port} (pricing gRPC)" in message
    assert "another mesh" in message
    assert "\n" not in message


def test_check_modules_rejects_a_module_without_main() -> None:
    """A package that cannot run with ``python -m`` fails pre-flight by service name."""
    spec = _manifest().service("catalog")  # module "services.x" does not exist
    with pytest.raises(preflight.PreflightError, match="catalog"):
        preflight.check_modules([spec])


def test_stop_report_is_clean_only_when_every_service_exited_zero() -> None:
    """A killed or non-zero exit makes the report unclean and appears in its summary."""
    clean = StopReport((ServiceExit("a", 0), ServiceExit("b", 0)), 1.0)
    assert clean.clean
    assert clean.summary() == "stopped 2 service(s) in 1.0s: 2 cleanly"
    messy = StopReport((ServiceExit("a", -9, killed=True), ServiceExit("b", 1)), 2.0)
    assert not messy.clean
    assert messy.summary().endswith("a was killed (SIGKILL); b exited with code 1")


def test_service_exit_counts_our_sigterm_during_start_up_as_clean() -> None:
    """Death by the SIGTERM we sent is clean (still starting); by anyone else's it is not."""
    assert ServiceExit("a", -signal.SIGTERM, terminated=True).clean
    assert not ServiceExit("a", -signal.SIGTERM).clean
    assert ServiceExit("a", -signal.SIGTERM).describe() == "a died from SIGTERM"
