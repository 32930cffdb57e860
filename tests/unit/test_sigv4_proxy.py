"""The SigV4 signing proxy against a local TLS gRPC server that verifies SigV4 the way VPC
Lattice does (signature recomputed with botocore from the same fake credentials) and
rejects anything else with UNAUTHENTICATED."""

from __future__ import annotations

import datetime
import hmac
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]

from cloudformation.sigv4_proxy import (
    SIGNING_SERVICE,
    UNSIGNED_PAYLOAD,
    ProxyConfig,
    SigningProxy,
)

ACCESS_KEY = "AKIDEXAMPLEPROXY"
SECRET_KEY = "fake-secret-for-the-proxy-test"
REGION = "eu-west-1"
TIMEOUT_S = 5.0
REQUIRED_SIGNED = {"host", "x-amz-date", "x-amz-content-sha256"}


@dataclass(frozen=True)
class TlsIdentity:
    key_pem: bytes
    cert_pem: bytes


def self_signed_for_loopback() -> TlsIdentity:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return TlsIdentity(key_pem, cert.public_bytes(serialization.Encoding.PEM))


def signature_problem(authority: str, method: str, metadata: dict[str, str]) -> str | None:
    """Why the call's SigV4 signature is not valid for ``authority``, or None if it is."""
    header = metadata.get("authorization", "")
    scheme, _, fields_text = header.partition(" ")
    fields = dict(part.strip().split("=", 1) for part in fields_text.split(",") if "=" in part)
    if scheme != "AWS4-HMAC-SHA256" or not {"Credential", "SignedHeaders", "Signature"} <= set(
        fields
    ):
        return "no SigV4 authorization header"
    access_key, _date, region, service, _ = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    if access_key != ACCESS_KEY or region != REGION or service != SIGNING_SERVICE:
        return f"wrong credential scope {fields['Credential']}"
    if not set(signed) >= REQUIRED_SIGNED:
        return f"signed headers {signed} miss one of {sorted(REQUIRED_SIGNED)}"
    if metadata.get("x-amz-content-sha256") != UNSIGNED_PAYLOAD:
        return "x-amz-content-sha256 is not UNSIGNED-PAYLOAD"
    request = AWSRequest(
        method="POST",
        url=f"https://{authority}{method}",
        headers={key: metadata[key] for key in signed if key != "host"},
    )
    request.context["timestamp"] = metadata["x-amz-date"]
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), SIGNING_SERVICE, REGION)
    expected = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    return None if hmac.compare_digest(expected, fields["Signature"]) else "signature mismatch"


class SigV4Verifier(grpc.aio.ServerInterceptor):
    """Lattice's IAM auth in miniature: a call with no valid signature is refused."""

    def __init__(self, authority: str) -> None:
        self.authority = authority
        self.accepted: list[str] = []

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        method: str = handler_call_details.method
        metadata = {key: str(value) for key, value in handler_call_details.invocation_metadata}
        problem = signature_problem(self.authority, method, metadata)
        if problem is None:
            self.accepted.append(method)
            return await continuation(handler_call_details)

        async def refuse(_request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, problem)

        return grpc.unary_unary_rpc_method_handler(refuse)


def health_stub(channel: grpc.aio.Channel) -> health_pb2_grpc.HealthStub:
    return health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]


@dataclass
class Setup:
    verifier: SigV4Verifier
    target: str
    proxy_port: int
    roots: bytes


@pytest.fixture
async def setup(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Setup]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    identity = self_signed_for_loopback()
    verifier = SigV4Verifier(authority="")
    server = grpc.aio.server(interceptors=(verifier,))
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)  # type: ignore[no-untyped-call]
    port = server.add_secure_port(
        "127.0.0.1:0",
        grpc.ssl_server_credentials([(identity.key_pem, identity.cert_pem)]),
    )
    await server.start()
    target = f"127.0.0.1:{port}"
    verifier.authority = target
    proxy = SigningProxy(ProxyConfig("127.0.0.1:0", target, REGION, identity.cert_pem))
    proxy_port = await proxy.start()
    try:
        yield Setup(verifier, target, proxy_port, identity.cert_pem)
    finally:
        await proxy.stop(1.0)
        await server.stop(1.0)


async def test_unsigned_call_is_refused_by_the_verifier(setup: Setup) -> None:
    """A TLS call straight to the verifying server, without SigV4, fails UNAUTHENTICATED."""
    credentials = grpc.ssl_channel_credentials(setup.roots)
    async with grpc.aio.secure_channel(setup.target, credentials) as channel:
        stub = health_stub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT_S)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert caught.value.details() == "no SigV4 authorization header"
    assert setup.verifier.accepted == []


async def test_proxied_unary_call_is_signed_and_accepted(setup: Setup) -> None:
    """A plaintext call to the proxy reaches the server signed, and its reply comes back."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{setup.proxy_port}") as channel:
        reply = await health_stub(channel).Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT_S)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert setup.verifier.accepted == ["/grpc.health.v1.Health/Check"]


async def test_proxied_server_stream_streams_through(setup: Setup) -> None:
    """A server stream through the proxy delivers its first message before the call ends."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{setup.proxy_port}") as channel:
        call = health_stub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=TIMEOUT_S)
        first = await call.read()
        call.cancel()
    assert isinstance(first, health_pb2.HealthCheckResponse)
    assert first.status == health_pb2.HealthCheckResponse.SERVING
    assert setup.verifier.accepted == ["/grpc.health.v1.Health/Watch"]


async def test_upstream_status_is_passed_back_unchanged(setup: Setup) -> None:
    """An error status of the upstream server reaches the client with its code and text."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{setup.proxy_port}") as channel:
        stub = health_stub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=TIMEOUT_S)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert setup.verifier.accepted == ["/grpc.health.v1.Health/Check"]
