"""Graceful shutdown of a real service process: health flips, drain, grace, clean exit."""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2
from shopmesh.common.v1 import money_pb2
from shopmesh.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from shopmesh.payments.v1 import payments_pb2, payments_pb2_grpc

from meshkit.runtime.channels import open_channel
from services.payments.sqlite_store import SqlitePaymentsStore
from tests.integration.processes import health_status, service_process

pytestmark = pytest.mark.slow

DRAIN_S, GRACE_S = 1.0, 2.0
TIMINGS = {"SHOPMESH_DRAIN_DELAY_S": str(DRAIN_S), "SHOPMESH_GRACE_S": str(GRACE_S)}


async def test_sigterm_one_replica_under_load_fails_nothing(tmp_path: Path) -> None:
    """R-F44: SIGTERM one of two replicas under load: its health turns NOT_SERVING at once,
    clients move to the other replica, it exits 0 within drain + grace, no call fails and
    every acknowledged charge is stored exactly once."""
    async with (
        service_process("services.payments", tmp_path, TIMINGS) as doomed,
        service_process("services.payments", tmp_path, TIMINGS) as survivor,
    ):
        target = f"ipv4:{doomed.address},{survivor.address}"
        channel = open_channel(
            target, default_deadline_s=2.0, margin_s=0.0, max_message_bytes=1 << 20
        )
        stub = payments_pb2_grpc.PaymentsServiceStub(channel)
        acknowledged: list[tuple[float, str]] = []
        failures: list[grpc.StatusCode] = []
        keys = (f"key-{n}" for n in itertools.count())
        stop_load = asyncio.Event()

        async def load() -> None:
            while not stop_load.is_set():
                key = next(keys)
                request = payments_pb2.ChargeRequest(
                    idempotency_key=key,
                    amount=money_pb2.Money(currency_code="USD", amount_minor=100),
                    payment_token="tok_visa",
                    reference="shutdown-test",
                )
                try:
                    await stub.Charge(request)
                    acknowledged.append((time.monotonic(), key))
                except grpc.aio.AioRpcError as error:
                    failures.append(error.code())

        workers = [asyncio.create_task(load()) for _ in range(8)]
        await asyncio.sleep(0.5)
        sent_at = time.monotonic()
        doomed.process.send_signal(signal.SIGTERM)
        status = await health_status(doomed.address)
        exit_code = await asyncio.wait_for(doomed.process.wait(), DRAIN_S + GRACE_S + 3)
        exited_at = time.monotonic()
        await asyncio.sleep(0.3)  # keep the load on the survivor a little longer
        stop_load.set()
        await asyncio.gather(*workers)
        await channel.close()

    assert status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert exit_code == 0
    assert exited_at - sent_at < DRAIN_S + GRACE_S + 1
    assert failures == []
    assert any(t > exited_at for t, _ in acknowledged)
    store = SqlitePaymentsStore(tmp_path / "payments.sqlite3")
    stored = await store.run(
        lambda records: [records.by_key(key) for _, key in acknowledged], write=False
    )
    store.close()
    assert all(charge is not None for charge in stored)
    assert len({charge.charge_id for charge in stored if charge}) == len(acknowledged)


async def test_new_call_after_stop_is_unavailable_at_once(tmp_path: Path) -> None:
    """R-F47: once a stopped server has gone, a new call fails UNAVAILABLE at once."""
    env = {"SHOPMESH_DRAIN_DELAY_S": "0", "SHOPMESH_GRACE_S": "0.5"}
    async with service_process("services.payments", tmp_path, env) as service:
        service.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(service.process.wait(), 5) == 0
        async with grpc.aio.insecure_channel(service.address) as channel:
            stub = payments_pb2_grpc.PaymentsServiceStub(channel)
            started = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetCharge(payments_pb2.GetChargeRequest(charge_id="ch_x"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - started < 1.0


async def test_stream_outliving_grace_is_cut_at_grace_and_process_exits(tmp_path: Path) -> None:
    """R-F45: an open bidi stream that will not finish is ended at ~grace, then the
    process exits cleanly; the client sees the stream fail, not hang."""
    env = {**TIMINGS, "SHOPMESH_DRAIN_DELAY_S": "0.2"}
    async with (
        service_process("services.inventory", tmp_path, env) as service,
        grpc.aio.insecure_channel(service.address) as channel,
    ):
        stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        call = stub.ReserveStream(timeout=30)
        await call.write(
            inventory_pb2.ReserveStreamRequest(reservation_key="k1", sku="SKU-00001", quantity=1)
        )
        first = await asyncio.wait_for(call.read(), 5)
        assert isinstance(first, inventory_pb2.ReserveStreamResponse)
        assert first.WhichOneof("result") == "reservation"
        sent_at = time.monotonic()
        service.process.send_signal(signal.SIGTERM)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await asyncio.wait_for(call.read(), 10)
        cut_after = time.monotonic() - sent_at
        exit_code = await asyncio.wait_for(service.process.wait(), 5)
    assert caught.value.code() in {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}
    assert 0.2 + GRACE_S - 0.3 < cut_after < 0.2 + GRACE_S + 1.5
    assert exit_code == 0
