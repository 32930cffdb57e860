"""Errors the gateway itself raises before (or instead of) calling upstream.

Each carries the gRPC code it stands for; the HTTP status comes from the one shared
table in ``gateway.http_status``, so the edge and the transcoder can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence


class GatewayProblem(Exception):
    """A request the gateway answers itself, as google.rpc.Status JSON."""

    grpc_code = 13  # INTERNAL
    http_status: int | None = None
    """Set where HTTP needs a status the gRPC code's row does not give (405)."""

    def __init__(self, message: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.headers = tuple(headers)


class BadRequest(GatewayProblem):
    """Malformed or invalid input (INVALID_ARGUMENT → 400)."""

    grpc_code = 3


class NotFound(GatewayProblem):
    """No route for the path (NOT_FOUND → 404)."""

    grpc_code = 5


class MethodNotAllowed(GatewayProblem):
    """The path exists for other HTTP methods (405, carried as UNIMPLEMENTED's sibling)."""

    grpc_code = 12
    http_status = 405


class NotImplementedShape(GatewayProblem):
    """A streaming shape this HTTP exchange cannot carry (UNIMPLEMENTED → 501)."""

    grpc_code = 12
