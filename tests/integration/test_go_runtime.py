"""The Go services run on the same platform contract as the Python ones: grpcurl explores
them through reflection alone; health Watch heartbeats; SIGTERM drains (readiness 503
at once, liveness 200, Watch ends, exit 0); /metrics has the load test's shape; bad
settings and taken ports exit 2 with one line; tracing propagates W3C traceparent."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from shopmesh.pricing.v1 import pricing_pb2, pricing_pb2_grpc

from meshkit.manifest import GO, PYTHON
from tests.integration.implementations import IMPLEMENTATIONS, go_binary, running_service
from tests.integration.processes import free_port
from tests.integration.test_grpcurl import grpcurl

pytestmark = pytest.mark.slow
SERVICES = {
    "pricing": "shopmesh.pricing.v1.PricingService",
    "inventory": "shopmesh.inventory.v1.InventoryService",
}
Status = health_pb2.HealthCheckResponse


async def _http(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, object]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    async with asyncio.timeout(5):
        response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body) if body else {}


@pytest.mark.parametrize("name", SERVICES)
async def test_grpcurl_lists_and_describes_the_go_service(tmp_path: Path, name: str) -> None:
    """`grpcurl list` on the Go server names the same services as on the Python one, and
    `describe` prints its RPCs with their google.api.http options, with no proto files."""
    listed = {}
    for impl in IMPLEMENTATIONS:
        async with running_service(name, impl, tmp_path / impl) as running:
            code, out, err = await grpcurl("-plaintext", running.address, "list")
            assert code == 0, err
            listed[impl] = out.split()
            if impl == GO:
                code, out, err = await grpcurl(
                    "-plaintext", running.address, "describe", SERVICES[name]
                )
                assert code == 0, err
                assert "google.api.http" in out
                assert "stream" in out
    assert listed[GO] == listed[PYTHON]
    assert SERVICES[name] in listed[GO]


async def test_go_health_watch_resends_status_every_heartbeat(tmp_path: Path) -> None:
    """A quiet Watch gets SERVING at once and again every SHOPMESH_STREAM_HEARTBEAT_S; an
    unknown service is SERVICE_UNKNOWN, re-sent too; Check on it is NOT_FOUND."""
    env = {"SHOPMESH_STREAM_HEARTBEAT_S": "0.2"}
    async with (
        running_service("pricing", GO, tmp_path, env) as running,
        grpc.aio.insecure_channel(running.address) as channel,
    ):
        stub = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
        for service, expected in (("", Status.SERVING), ("nope.v1.X", Status.SERVICE_UNKNOWN)):
            call = stub.Watch(health_pb2.HealthCheckRequest(service=service), timeout=10)
            replies = []
            async with asyncio.timeout(5):
                async for reply in call:
                    replies.append(reply.status)
                    if len(replies) == 3:
                        break
            call.cancel()
            assert replies == [expected] * 3
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Check(health_pb2.HealthCheckRequest(service="nope.v1.X"), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert caught.value.details() == "unknown service 'nope.v1.X'"


@pytest.mark.parametrize("name", SERVICES)
async def test_sigterm_drains_the_go_service_and_exits_0(tmp_path: Path, name: str) -> None:
    """SIGTERM: readiness (gRPC and /readyz) turns NOT_SERVING at once while liveness
    (/healthz) stays 200, open Watch streams get NOT_SERVING and end, and after the drain
    delay and grace the process exits 0 with a drain log."""
    env = {"SHOPMESH_DRAIN_DELAY_S": "1.5", "SHOPMESH_GRACE_S": "1"}
    async with (
        running_service(name, GO, tmp_path, env) as running,
        grpc.aio.insecure_channel(running.address) as channel,
    ):
        stub = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
        watch = stub.Watch(health_pb2.HealthCheckRequest(), timeout=10)
        async with asyncio.timeout(5):
            assert (await watch.read()).status == Status.SERVING
        running.process.send_signal(15)
        async with asyncio.timeout(5):
            assert (await watch.read()).status == Status.NOT_SERVING
            assert await watch.read() == grpc.aio.EOF
        ready, document = await _http(running.health_port, "/readyz")
        live, _ = await _http(running.health_port, "/healthz")
        check = await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert (ready, live, check.status) == (503, 200, Status.NOT_SERVING)
        assert document == {
            "service": name,
            "status": "NOT_SERVING",
            "draining": True,
            "unhealthy_dependencies": [],
        }
        async with asyncio.timeout(15):
            assert await running.process.wait() == 0
    messages = [json.loads(line)["msg"] for line in running.stderr if line.startswith("{")]
    assert messages[-3:] == ["signal received", "draining", "stopped"]


async def test_go_metrics_have_the_python_shape(tmp_path: Path) -> None:
    """GET /metrics counts calls and messages per method and per x-operation-id in the
    JSON shape the load test reads, from both implementations alike."""
    shapes = {}
    for impl in IMPLEMENTATIONS:
        async with (
            running_service("pricing", impl, tmp_path / impl) as running,
            grpc.aio.insecure_channel(running.address) as channel,
        ):
            stub = pricing_pb2_grpc.PricingServiceStub(channel)
            item = pricing_pb2.QuoteItem(sku="SKU-00001", quantity=1)
            lines = [
                pricing_pb2.QuoteStreamRequest(line_id=str(n), item=item, region="DE")
                for n in range(3)
            ]
            call = stub.QuoteStream(iter(lines), timeout=5, metadata=(("x-operation-id", "op-1"),))
            assert len([reply async for reply in call]) == 3
            status, document = await _http(running.health_port, "/metrics")
            assert status == 200
            shapes[impl] = document
    quote_stream = "/shopmesh.pricing.v1.PricingService/QuoteStream"
    for document in shapes.values():
        assert document["service"] == "pricing"
        tally = {"calls": 1, "messages_in": 3, "messages_out": 3}
        methods = document["methods"]
        assert isinstance(methods, dict)
        assert methods[quote_stream] == tally
        assert document["operations"] == {"op-1": tally}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SHOPMESH_GRPC_PORT": "http"},
            "SHOPMESH_GRPC_PORT must be a TCP port (0-65535), got 'http'",
        ),
        (
            {"SHOPMESH_DRAIN_DELAY_S": "-1"},
            "SHOPMESH_DRAIN_DELAY_S must be a finite number >= 0.0, got '-1'",
        ),
        ({"SHOPMESH_TRANSPORT": "soap"}, "SHOPMESH_TRANSPORT must be grpc or rest, got 'soap'"),
        (
            {"SHOPMESH_PRODUCT_COUNT": "0"},
            "SHOPMESH_PRODUCT_COUNT must be an integer 1..99999, got '0'",
        ),
        (
            {"SHOPMESH_STORAGE": "dynamodb"},
            "SHOPMESH_STORAGE=dynamodb: the Go implementation keeps SQLite only",
        ),
        (
            {"OTEL_TRACES_EXPORTER": "zipkin"},
            "OTEL_TRACES_EXPORTER must be none, console or otlp, got 'zipkin'",
        ),
    ],
)
async def test_bad_setting_exits_2_with_one_line(env: dict[str, str], message: str) -> None:
    """A malformed setting stops the Go service before it listens: exit 2, one line on
    stderr naming the variable (the Python service's wording), no stack."""
    process = await asyncio.create_subprocess_exec(
        go_binary("inventory"), env={**os.environ, **env}, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(10):
        _, err = await process.communicate()
    lines = err.decode().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1
    assert lines[0].startswith(f"inventory: configuration error: {message}")


@pytest.mark.parametrize(
    "which", ["SHOPMESH_GRPC_PORT", "SHOPMESH_HEALTH_PORT", "SHOPMESH_REST_PORT"]
)
async def test_taken_port_exits_2_with_one_line(tmp_path: Path, which: str) -> None:
    """A port another process holds (no SO_REUSEPORT sharing) stops the Go service: exit 2
    and one JSON log line naming the address."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        env = {
            **os.environ,
            "SHOPMESH_HOST": "127.0.0.1",
            "SHOPMESH_GRPC_PORT": str(free_port()),
            "SHOPMESH_HEALTH_PORT": str(free_port()),
            "SHOPMESH_DATA_DIR": str(tmp_path),
            which: str(taken),
        }
        if which == "SHOPMESH_REST_PORT":
            env["SHOPMESH_TRANSPORT"] = "rest"
        process = await asyncio.create_subprocess_exec(
            go_binary("pricing"), env=env, stderr=asyncio.subprocess.PIPE
        )
        async with asyncio.timeout(10):
            _, err = await process.communicate()
    lines = err.decode().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1
    assert json.loads(lines[0])["level"] == "ERROR"
    assert f"127.0.0.1:{taken}" in json.loads(lines[0])["msg"]


async def test_go_service_drains_when_its_stdin_closes(tmp_path: Path) -> None:
    """With --guard-stdin (how the runner starts it) the Go service drains and exits 0 once
    its standard input closes: the runner is gone, however it went."""
    env = {
        **os.environ,
        "SHOPMESH_HOST": "127.0.0.1",
        "SHOPMESH_GRPC_PORT": str(free_port()),
        "SHOPMESH_HEALTH_PORT": str(free_port()),
        "SHOPMESH_DRAIN_DELAY_S": "0",
    }
    process = await asyncio.create_subprocess_exec(
        go_binary("pricing"),
        "--guard-stdin",
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stderr is not None
    async with asyncio.timeout(10):
        assert b'"serving"' in await process.stderr.readline()
        process.stdin.close()
        assert await process.wait() == 0


async def test_go_service_joins_the_callers_trace(tmp_path: Path) -> None:
    """With OTEL_TRACES_EXPORTER=console the Go server continues the caller's W3C trace:
    its span and its access-log line carry the trace id of the incoming traceparent."""
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    env = {"OTEL_TRACES_EXPORTER": "console", "SHOPMESH_ACCESS_LOG": "1"}
    async with (
        running_service("pricing", GO, tmp_path, env) as running,
        grpc.aio.insecure_channel(running.address) as channel,
    ):
        stub = pricing_pb2_grpc.PricingServiceStub(channel)
        request = pricing_pb2.QuoteRequest(
            items=[pricing_pb2.QuoteItem(sku="SKU-00001", quantity=1)], region="DE"
        )
        traceparent = f"00-{trace_id}-00f067aa0ba902b7-01"
        await stub.Quote(request, timeout=5, metadata=(("traceparent", traceparent),))
        assert await running.terminate() == 0
    access = [
        json.loads(line)
        for line in running.stderr
        if line.startswith("{") and '"shopmesh.access"' in line and "Quote" in line
    ]
    assert [entry["trace_id"] for entry in access] == [trace_id]
    spans = "\n".join(line for line in running.stderr if not line.startswith('{"ts"'))
    assert trace_id in spans
    assert "shopmesh.pricing.v1.PricingService/Quote" in spans
