"""Running or deployed meshes are described by a JSON targets file; TLS and an authority
(a VPC Lattice DNS name) reach the loader's gRPC channels and HTTP requests."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import grpc
import pytest
from shopmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc

from loadtest.cli import _targets_file
from loadtest.clients import GrpcChannels, HttpClient
from services.catalog.app import build as build_catalog
from tests.conftest import running_host


def test_targets_file_is_read_into_targets(tmp_path: Path) -> None:
    """Every key of the file lands in Targets; the CA file becomes a path."""
    path = tmp_path / "targets.json"
    path.write_text(
        json.dumps(
            {
                "grpc": {"orders": "orders.example:443"},
                "rest": {"orders": "https://orders.example"},
                "gateway": "https://shop.example",
                "metrics": {"orders": "http://10.0.0.5:8055/metrics"},
                "tls": True,
                "authority": "orders-0123.vpc-lattice-svcs.us-east-1.on.aws",
                "ca_file": "/etc/ssl/certs/ca-certificates.crt",
            }
        )
    )
    targets = _targets_file(path)
    assert targets.grpc == {"orders": "orders.example:443"}
    assert targets.tls
    assert targets.ca_file == Path("/etc/ssl/certs/ca-certificates.crt")
    assert not targets.local


async def test_the_authority_is_sent_as_the_http_host(tmp_path: Path) -> None:
    """A server behind a shared name (a Lattice DNS name) sees it in the Host header."""
    heads: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    targets = _targets_file(_write(tmp_path, {"authority": "svc.lattice.example"}))
    http = HttpClient(targets, new_connection=True)
    try:
        status, body = await http.request("GET", f"http://127.0.0.1:{port}/v1/products/SKU-1")
    finally:
        await http.close()
        server.close()
    assert (status, body) == (200, {})
    assert b"\r\nhost: svc.lattice.example\r\n" in heads[0].lower()


@pytest.mark.parametrize("tls", [False, True])
async def test_tls_targets_get_secure_grpc_channels(tmp_path: Path, tls: bool) -> None:
    """The same plaintext gRPC server answers a plaintext channel and refuses a TLS one."""
    async with running_host(build_catalog(10)) as host:
        targets = _targets_file(_write(tmp_path, {"tls": tls}))
        channels = GrpcChannels(targets)
        stub = catalog_pb2_grpc.CatalogServiceStub(channels[f"127.0.0.1:{host.grpc_port}"])
        request = catalog_pb2.GetProductRequest(sku="SKU-00001")
        try:
            if tls:
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await stub.GetProduct(request, timeout=2)
                assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
            else:
                assert (await stub.GetProduct(request, timeout=2)).product.sku == "SKU-00001"
        finally:
            await channels.close()


def _write(folder: Path, document: dict[str, object]) -> Path:
    path = folder / "t.json"
    path.write_text(json.dumps(document))
    return path
