"""One long-lived gRPC channel per upstream address, and a callable per route.

Channels come from the runtime (``meshkit.runtime.channels.open_channel``): the same
retry policy, keepalive and client-side health checking as service-to-service calls,
and HTTP/2 multiplexing carries every concurrent request over one connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from google.protobuf.message import Message

from gateway.descriptors import message_class
from meshkit.runtime.channels import open_channel
from meshkit.runtime.config import DEFAULT_MAX_MESSAGE_BYTES


def _serialize(request: Message) -> bytes:
    return request.SerializeToString()


class Upstreams:
    """Channels by address and multi-callables by gRPC method path."""

    def __init__(
        self,
        targets: Mapping[str, str],
        pool: Any,
        *,
        default_deadline_s: float,
        client_interceptors: Sequence[Any] = (),
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        """``targets`` maps a full gRPC service name to its address (host:port)."""
        self._targets = dict(targets)
        self._pool = pool
        self._default_deadline_s = default_deadline_s
        self._interceptors = list(client_interceptors)
        self._max_message_bytes = max_message_bytes
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._callables: dict[str, Any] = {}

    def knows(self, service: str) -> bool:
        return service in self._targets

    def callable_for(self, method: Any) -> Any:
        """The multi-callable for a MethodDescriptor, built once and kept."""
        path = f"/{method.containing_service.full_name}/{method.name}"
        found = self._callables.get(path)
        if found is not None:
            return found
        channel = self._channel(self._targets[method.containing_service.full_name])
        reply_class = message_class(self._pool, method.output_type.full_name)
        kind = {
            (False, False): channel.unary_unary,
            (False, True): channel.unary_stream,
            (True, False): channel.stream_unary,
            (True, True): channel.stream_stream,
        }[(method.client_streaming, method.server_streaming)]
        found = kind(
            path,
            request_serializer=_serialize,
            response_deserializer=reply_class.FromString,
        )
        self._callables[path] = found
        return found

    def _channel(self, address: str) -> grpc.aio.Channel:
        channel = self._channels.get(address)
        if channel is None:
            channel = open_channel(
                address,
                default_deadline_s=self._default_deadline_s,
                margin_s=0.0,
                max_message_bytes=self._max_message_bytes,
                extra_interceptors=self._interceptors,
                # Every gateway call carries its own timeout (Grpc-Timeout or the route's
                # default), so the runtime's call-scope deadline interceptors are not needed.
                call_scope_deadlines=False,
            )
            self._channels[address] = channel
        return channel

    async def close(self, grace_s: float | None = None) -> None:
        for channel in self._channels.values():
            await channel.close(grace_s)
        self._channels.clear()
        self._callables.clear()
