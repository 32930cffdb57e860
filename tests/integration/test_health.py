"""grpc.health.v1 conformance (R-F48), liveness (/healthz) and readiness (/readyz),
draining, heartbeats on quiet Watch streams, and dependency health (R-E42)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from meshkit.runtime.channels import Channels
from meshkit.runtime.health import DependencyMonitor, HealthState
from meshkit.runtime.server import Registration, ServiceHost, ServiceParts
from tests.conftest import TEST_RUNTIME, running_host

FAKE_SERVICE = "shopmesh.test.v1.FakeService"
Status = health_pb2.HealthCheckResponse


def _build(hard_dependencies: tuple[str, ...] = ()) -> Any:
    def build(channels: Channels) -> ServiceParts:
        registration = Registration(object(), lambda servicer, server: None, FAKE_SERVICE)
        return ServiceParts(registrations=[registration], hard_dependencies=hard_dependencies)

    return build


async def _healthz(port: int, path: str = "/healthz") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    async with asyncio.timeout(5):
        response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


@pytest.fixture
async def host() -> AsyncIterator[ServiceHost]:
    async with running_host(_build()) as running:
        yield running


async def test_check_reports_serving_for_server_and_each_service(host: ServiceHost) -> None:
    """Check("") and Check(<service>) answer SERVING; an unknown service is NOT_FOUND."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{host.grpc_port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
        for service in ("", FAKE_SERVICE):
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == Status.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Check(health_pb2.HealthCheckRequest(service="nope.v1.X"), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_watch_streams_transition_to_not_serving_on_drain() -> None:
    """Watch sends SERVING, then NOT_SERVING when draining starts, then ends the stream."""
    async with (
        running_host(_build()) as host,
        grpc.aio.insecure_channel(f"127.0.0.1:{host.grpc_port}") as channel,
    ):
        stub = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
        call = stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
        first = await asyncio.wait_for(call.read(), 5)
        assert first.status == Status.SERVING
        await host.health.drain()
        second = await asyncio.wait_for(call.read(), 5)
        assert second.status == Status.NOT_SERVING
        assert await asyncio.wait_for(call.read(), 5) is grpc.aio.EOF


async def test_watch_unknown_service_answers_service_unknown(host: ServiceHost) -> None:
    """Watch on an unregistered service yields SERVICE_UNKNOWN instead of failing."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{host.grpc_port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
        call = stub.Watch(health_pb2.HealthCheckRequest(service="nope.v1.X"), timeout=5)
        reply = await asyncio.wait_for(call.read(), 5)
        assert reply.status == Status.SERVICE_UNKNOWN
        call.cancel()


async def test_readyz_follows_grpc_health(host: ServiceHost) -> None:
    """/readyz answers 200 while SERVING and 503 once draining."""
    status, body = await _healthz(host.health_port, "/readyz")
    assert status == 200
    assert b'"SERVING"' in body
    await host.health.drain()
    status, body = await _healthz(host.health_port, "/readyz")
    assert status == 503
    assert b'"NOT_SERVING"' in body


async def test_healthz_is_liveness_and_stays_200_while_draining(host: ServiceHost) -> None:
    """/healthz (what ECS and Lattice probe) answers 200 while the process runs, even once
    it drains: liveness, not readiness; its body still says the readiness status."""
    await host.health.drain()
    status, body = await _healthz(host.health_port)
    assert status == 200
    assert b'"NOT_SERVING"' in body


async def test_healthz_head_answers_headers_only(host: ServiceHost) -> None:
    """HEAD /healthz gets the status line and headers but no body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", host.health_port)
    writer.write(b"HEAD /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
    async with asyncio.timeout(5):
        response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert body == b""


async def test_healthz_rejects_other_paths_and_garbage(host: ServiceHost) -> None:
    """Unknown paths get 404 and a malformed request line 400, never a crash."""
    for request, expected in (
        (b"GET /nope HTTP/1.1\r\n\r\n", b"404"),
        (b"POST /healthz HTTP/1.1\r\n\r\n", b"405"),
        (b"\x00\xff garbage\r\n\r\n", b"400"),
    ):
        reader, writer = await asyncio.open_connection("127.0.0.1", host.health_port)
        writer.write(request)
        async with asyncio.timeout(5):
            response = await reader.read()
        writer.close()
        assert response.split(b" ")[1] == expected


async def test_hard_dependency_down_means_not_serving_until_it_is_up() -> None:
    """R-E42: NOT_SERVING while a hard dependency is unreachable; SERVING once it is up."""
    async with running_host(_build()) as dependency:
        port = dependency.grpc_port
    # The dependency is gone; its port is free again. Point the dependent at it.
    dependent_build = _build(hard_dependencies=("dep",))
    async with running_host(dependent_build, dependencies={"dep": f"127.0.0.1:{port}"}) as host:
        await asyncio.sleep(0.3)
        assert host.health.status == Status.NOT_SERVING
        assert host.health.unhealthy_dependencies == {"dep"}
        async with running_host(_build(), grpc_port=port):
            await _until(host, Status.SERVING)
        await _until(host, Status.NOT_SERVING)


async def _until(host: ServiceHost, wanted: int) -> None:
    """Waits (bounded) for the host's health to become ``wanted``, following its changes."""
    async with asyncio.timeout(10):
        async for status in host.health.changes():
            if status == wanted:
                return


async def _statuses_during(host_state: HealthState, seconds: float) -> list[int]:
    """Every status the state reports (current first) within ``seconds``."""
    seen: list[int] = []

    async def follow() -> None:
        async for status in host_state.changes():
            seen.append(status)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(follow(), seconds)
    return seen


async def test_dependency_health_holds_past_the_default_deadline() -> None:
    """A healthy dependency keeps the dependent SERVING without a flap, even for longer
    than the default deadline that outbound calls get (the watch is no ordinary call)."""
    async with running_host(_build()) as dependency:
        deps = {"dep": f"127.0.0.1:{dependency.grpc_port}"}
        async with running_host(_build(hard_dependencies=("dep",)), dependencies=deps) as host:
            await _until(host, Status.SERVING)
            seen = await _statuses_during(host.health, TEST_RUNTIME.default_deadline_s + 1.0)
    assert seen == [Status.SERVING]


async def test_dependency_watch_is_renewed_when_its_period_ends() -> None:
    """The monitor's watch has a deadline; when it runs out it is renewed at once and the
    dependency's status does not change."""
    async with running_host(_build()) as dependency:
        state = HealthState(["x"], hard_dependencies=["dep"])
        async with grpc.aio.insecure_channel(f"127.0.0.1:{dependency.grpc_port}") as channel:
            monitor = DependencyMonitor(state, {"dep": channel}, watch_period_s=0.3)
            monitor.start()
            try:
                seen = await _statuses_during(state, 1.5)
            finally:
                await monitor.stop()
    assert seen == [Status.NOT_SERVING, Status.SERVING]


async def test_a_dependency_outage_turns_readiness_off_but_never_liveness() -> None:
    """While a hard dependency is down, gRPC health and /readyz say not ready (503) and
    /healthz stays 200, so ECS and Lattice never replace a healthy task for it."""
    async with running_host(_build()) as dependency:
        port = dependency.grpc_port
    deps = {"dep": f"127.0.0.1:{port}"}
    async with running_host(_build(hard_dependencies=("dep",)), dependencies=deps) as host:
        await _until(host, Status.NOT_SERVING)
        assert (await _healthz(host.health_port, "/readyz"))[0] == 503
        live, body = await _healthz(host.health_port)
        assert live == 200
        assert b'"unhealthy_dependencies": ["dep"]' in body
        async with running_host(_build(), grpc_port=port):
            await _until(host, Status.SERVING)
            assert (await _healthz(host.health_port, "/readyz"))[0] == 200


async def test_a_quiet_watch_resends_its_status_every_heartbeat() -> None:
    """With nothing changing, Watch re-sends the current status every heartbeat, so a
    proxy idle timeout above the heartbeat never sees the stream idle."""
    async with (
        running_host(_build(), stream_heartbeat_s=0.2) as host,
        grpc.aio.insecure_channel(f"127.0.0.1:{host.grpc_port}") as channel,
    ):
        stub = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
        call = stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=5)
        started = asyncio.get_running_loop().time()
        replies = [await asyncio.wait_for(call.read(), 5) for _ in range(4)]
        elapsed = asyncio.get_running_loop().time() - started
        call.cancel()
    assert [reply.status for reply in replies] == [Status.SERVING] * 4
    assert 0.5 <= elapsed < 3.0  # three heartbeats of 0.2 s after the first answer
