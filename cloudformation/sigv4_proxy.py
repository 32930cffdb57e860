"""A local gRPC proxy that signs every call with SigV4, so grpcurl can reach a VPC Lattice
service with IAM auth (grpcurl cannot sign, and Lattice rejects unsigned calls).

``python -m cloudformation.sigv4_proxy --target <lattice-dns>:443 --region eu-west-1``

grpcurl speaks plaintext HTTP/2 to ``--listen``; the proxy is a gRPC server whose one
generic handler takes every method as a bidirectional stream of opaque bytes, so all four
call shapes (and server reflection) pass through without knowing any proto. Each call is
forwarded over TLS with the client's metadata and deadline plus a SigV4 signature
(service ``vpc-lattice-svcs``, ``x-amz-content-sha256: UNSIGNED-PAYLOAD``: a stream's body
is not known when the headers leave); the reply's metadata, messages, status and trailers
come back unchanged. Credentials come from botocore's usual chain (env, profile, SSO, role).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.session import Session

SIGNING_SERVICE = "vpc-lattice-svcs"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
DEFAULT_LISTEN = "127.0.0.1:8443"
DEFAULT_GRACE_S = 5.0
HTTPS_PORT = "443"

Metadata = tuple[tuple[str, str | bytes], ...]
_NOT_FORWARDED = ("authorization", "user-agent", "x-amz-")
"""Client metadata the proxy replaces (the signature) or that gRPC sets itself."""


class ProxyError(Exception):
    """The proxy cannot start: no credentials, a bad address or an unreadable CA file."""


@dataclass(frozen=True)
class ProxyConfig:
    """Where to listen, where to forward, and how to sign."""

    listen: str
    target: str
    region: str
    root_certificates: bytes | None = None
    """PEM CA bundle for the target's certificate; None uses the system roots."""

    @property
    def authority(self) -> str:
        """The ``:authority`` sent and signed as ``host``: the target without port 443,
        as botocore canonicalises it."""
        host, _, port = self.target.rpartition(":")
        return host if port == HTTPS_PORT else self.target


def sign(credentials: Any, region: str, authority: str, method: str) -> Metadata:
    """The SigV4 headers (authorization, x-amz-date, x-amz-content-sha256 and, for
    temporary credentials, x-amz-security-token) of a POST to ``method`` at ``authority``."""
    request = AWSRequest(
        method="POST",
        url=f"https://{authority}{method}",
        headers={"x-amz-content-sha256": UNSIGNED_PAYLOAD},
    )
    SigV4Auth(credentials, SIGNING_SERVICE, region).add_auth(request)
    return tuple((key.lower(), str(value)) for key, value in request.headers.items())


class SigningForwarder(grpc.GenericRpcHandler):
    """Forwards every method to ``channel``, signed with fresh frozen credentials."""

    def __init__(self, config: ProxyConfig, channel: grpc.aio.Channel, credentials: Any) -> None:
        self._config = config
        self._channel = channel
        self._credentials = credentials

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[bytes, bytes]:
        method: str = handler_call_details.method
        # A partial, not a lambda: grpc.aio must see an async generator function to stream.
        return grpc.stream_stream_rpc_method_handler(functools.partial(self._forward, method))

    async def _forward(
        self,
        method: str,
        requests: AsyncIterator[bytes],
        context: grpc.aio.ServicerContext[bytes, bytes],
    ) -> AsyncIterator[bytes]:
        signature = sign(
            self._credentials.get_frozen_credentials(),
            self._config.region,
            self._config.authority,
            method,
        )
        passed = tuple(
            (key, value)
            for key, value in context.invocation_metadata() or ()
            if not key.startswith(_NOT_FORWARDED)
        )
        multicallable: grpc.aio.StreamStreamMultiCallable[bytes, bytes] = (
            self._channel.stream_stream(method)
        )
        call = multicallable(
            requests, metadata=passed + signature, timeout=context.time_remaining()
        )
        try:
            await context.send_initial_metadata(await call.initial_metadata() or ())
            async for reply in call:
                yield reply
            context.set_trailing_metadata(tuple(await call.trailing_metadata() or ()))
        except grpc.aio.AioRpcError as error:
            await context.abort(
                error.code(), error.details() or "", error.trailing_metadata() or ()
            )
        finally:
            call.cancel()  # a no-op once done; stops the upstream call if the client left


class SigningProxy:
    """The listening proxy: ``start`` binds and returns the port, ``stop`` drains."""

    def __init__(self, config: ProxyConfig) -> None:
        credentials = Session().get_credentials()
        if credentials is None:
            raise ProxyError("no AWS credentials found (env, profile, SSO or role): cannot sign")
        self._channel = grpc.aio.secure_channel(
            config.target,
            grpc.ssl_channel_credentials(config.root_certificates),
            options=(("grpc.default_authority", config.authority),),
        )
        self._server = grpc.aio.server()
        self._server.add_generic_rpc_handlers(
            (SigningForwarder(config, self._channel, credentials),)
        )
        self._listen = config.listen

    async def start(self) -> int:
        """Listens on the configured address; returns the bound port (useful with ``:0``)."""
        port = self._server.add_insecure_port(self._listen)
        if port == 0:
            raise ProxyError(f"cannot listen on {self._listen}")
        await self._server.start()
        return port

    async def stop(self, grace_s: float = DEFAULT_GRACE_S) -> None:
        """Lets calls in flight finish for ``grace_s``, then closes the upstream channel."""
        await self._server.stop(grace_s)
        await self._channel.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the command line and proxies until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m cloudformation.sigv4_proxy")
    parser.add_argument("--listen", default=DEFAULT_LISTEN, help="plaintext h2c address")
    parser.add_argument("--target", required=True, help="<lattice-dns-name>:443")
    parser.add_argument("--region", required=True)
    parser.add_argument("--ca-file", type=Path, help="PEM CA bundle (default: system roots)")
    args = parser.parse_args(argv)
    try:
        roots = args.ca_file.read_bytes() if args.ca_file else None
        config = ProxyConfig(args.listen, args.target, args.region, roots)
        return asyncio.run(_run(config))
    except (ProxyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


async def _run(config: ProxyConfig) -> int:
    proxy = SigningProxy(config)
    await proxy.start()
    print(
        f"signing proxy on {config.listen} -> {config.target} (SigV4 {SIGNING_SERVICE},"
        f" {config.region}); Ctrl-C stops it",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
