"""Client channels: one long-lived channel per dependency, created once at start-up.

Each channel carries the retry policy (UNAVAILABLE only, bounded, throttled) as
service-config JSON, keepalive tuned below a 5-minute proxy idle timeout, and an
interceptor that gives every call a deadline derived from the inbound call's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import grpc

from meshkit.runtime.deadlines import current_scope, outbound_timeout
from meshkit.runtime.interceptors import OPERATION_ID_KEY, REQUEST_ID_KEY

# D34: retry only UNAVAILABLE (the request never reached a handler, or the server is
# draining), at most 3 attempts, with jitter and a token bucket against retry storms.
# grpc-core never retries a stream once a response message has arrived (D35).
#
# Client-side health checking (round_robin + healthCheckConfig): each subchannel keeps a
# health Watch open and a replica that turns NOT_SERVING (draining) stops getting new
# calls at once, so a rolling restart fails nothing. Behind Service Connect the target is
# the local Envoy, which does the same for its upstreams; the config is harmless there.
SERVICE_CONFIG: dict[str, Any] = {
    "loadBalancingConfig": [{"round_robin": {}}],
    "healthCheckConfig": {"serviceName": ""},
    "methodConfig": [
        {
            "name": [{}],
            "retryPolicy": {
                "maxAttempts": 3,
                "initialBackoff": "0.05s",
                "maxBackoff": "0.5s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ],
    "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1},
}

KEEPALIVE_TIME_MS = 60_000
"""Client pings after 60 s of silence: well under the 300 s idle timeout of Service
Connect's Envoy and VPC Lattice, and above the server's minimum ping interval."""
KEEPALIVE_TIMEOUT_MS = 20_000

CLIENT_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
    ("grpc.enable_retries", 1),
    ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
    ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
)


class _CallScopeDetails:
    """Gives every outbound call a deadline and the inbound call's request ids (D31)."""

    def __init__(self, default_deadline_s: float, margin_s: float) -> None:
        self._default_deadline_s = default_deadline_s
        self._margin_s = margin_s

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        timeout = outbound_timeout(self._default_deadline_s, self._margin_s, details.timeout)
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        scope = current_scope()
        if scope is not None:
            if scope.request_id and metadata.get(REQUEST_ID_KEY) is None:
                metadata.add(REQUEST_ID_KEY, scope.request_id)
            if scope.operation_id and metadata.get(OPERATION_ID_KEY) is None:
                metadata.add(OPERATION_ID_KEY, scope.operation_id)
        return grpc.aio.ClientCallDetails(
            method=details.method,
            timeout=timeout,
            metadata=metadata,
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )


# grpc.aio files each interceptor under the first of the four kinds it is an instance
# of (an if/elif chain), so one class per kind: a class deriving from all four would
# silently apply to unary-unary calls only.
class _UnaryUnary(_CallScopeDetails, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _UnaryStream(_CallScopeDetails, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _StreamUnary(_CallScopeDetails, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(
        self, continuation: Any, details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(self._details(details), request_iterator)


class _StreamStream(_CallScopeDetails, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(
        self, continuation: Any, details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(self._details(details), request_iterator)


def deadline_interceptors(
    default_deadline_s: float, margin_s: float
) -> list[grpc.aio.ClientInterceptor]:
    """The interceptors that give calls of every shape their deadline and request ids."""
    kinds = (_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream)
    return [kind(default_deadline_s, margin_s) for kind in kinds]


def open_channel(
    target: str,
    *,
    default_deadline_s: float,
    margin_s: float,
    max_message_bytes: int,
    extra_interceptors: Sequence[grpc.aio.ClientInterceptor] = (),
    call_scope_deadlines: bool = True,
) -> grpc.aio.Channel:
    """An insecure channel to ``target`` (Service Connect/Lattice add TLS/mTLS outside).

    ``call_scope_deadlines=False`` leaves out the deadline interceptors, for a caller that
    is no gRPC server (the gateway) and sets every call's timeout itself: there they would
    only cost time (a task per call).
    """
    options = (
        *CLIENT_OPTIONS,
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
    )
    interceptors = list(extra_interceptors)
    if call_scope_deadlines:
        interceptors += deadline_interceptors(default_deadline_s, margin_s)
    return grpc.aio.insecure_channel(target, options=options, interceptors=interceptors)


class Channels:
    """The process's channels by dependency name; closed together at shutdown."""

    def __init__(self, channels: Mapping[str, grpc.aio.Channel]) -> None:
        self._channels = dict(channels)

    def __getitem__(self, name: str) -> grpc.aio.Channel:
        return self._channels[name]

    def items(self) -> list[tuple[str, grpc.aio.Channel]]:
        return list(self._channels.items())

    def as_mapping(self) -> Mapping[str, grpc.aio.Channel]:
        return dict(self._channels)

    async def close(self, grace_s: float | None = None) -> None:
        for channel in self._channels.values():
            await channel.close(grace_s)
