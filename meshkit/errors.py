"""Transport-free domain errors.

Domain code raises these; exactly one boundary per transport turns them into a wire
status (gRPC: meshkit.runtime.error_mapping; REST: the baseline adapters). Nothing here
imports grpc, so the same domain code runs behind any transport.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

ERROR_DOMAIN = "shopmesh.dev"
"""google.rpc.ErrorInfo.domain of every error the shop reports, whatever the transport."""

_log = logging.getLogger("shopmesh.errors")


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request, named by its path (for example "items[2].quantity")."""

    field: str
    description: str


@dataclass
class DomainError(Exception):
    """Base of every error a domain module may raise on purpose.

    ``reason`` is a stable UPPER_SNAKE machine-readable code; ``message`` is for people.
    ``metadata`` carries small facts a client can act on (for example the units left).
    """

    message: str
    reason: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    violations: tuple[FieldViolation, ...] = ()
    resource_type: str = ""
    resource_name: str = ""
    retry_after_s: float | None = None

    # The status category, one per subclass; the transports map it to a code.
    kind: ClassVar[str] = "internal"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class InvalidArgument(DomainError):
    """The request itself is wrong, whatever the state of the system."""

    kind = "invalid_argument"

    @classmethod
    def of(cls, *violations: FieldViolation, reason: str = "INVALID_ARGUMENT") -> InvalidArgument:
        """Builds the error from field violations, the message naming every field."""
        message = "; ".join(f"{v.field}: {v.description}" for v in violations)
        return cls(message=message, reason=reason, violations=tuple(violations))


class NotFound(DomainError):
    """A named resource does not exist."""

    kind = "not_found"


class AlreadyExists(DomainError):
    """The resource to create exists already."""

    kind = "already_exists"


class FailedPrecondition(DomainError):
    """The request is valid but the system is not in a state to carry it out."""

    kind = "failed_precondition"


class Aborted(DomainError):
    """A concurrency conflict; retrying the whole operation later may succeed."""

    kind = "aborted"


class ResourceExhausted(DomainError):
    """A quota or limit was hit."""

    kind = "resource_exhausted"


class Unavailable(DomainError):
    """A dependency could not be reached; safe to retry."""

    kind = "unavailable"


class DeadlineExceeded(DomainError):
    """The caller's deadline expired before the work could finish."""

    kind = "deadline_exceeded"


class Cancelled(DomainError):
    """The caller went away."""

    kind = "cancelled"


class Internal(DomainError):
    """A broken invariant reported on purpose (bugs surface as plain exceptions)."""

    kind = "internal"

    @classmethod
    def unexpected(cls, exc: BaseException, where: str) -> Internal:
        """What an unexpected exception becomes at a transport boundary: INTERNAL with an
        opaque id; the traceback goes to our log, never on the wire."""
        error_id = uuid.uuid4().hex
        _log.error(
            "unhandled exception", exc_info=exc, extra={"error_id": error_id, "method": where}
        )
        return cls(
            message=f"internal error (error id {error_id})",
            reason="INTERNAL",
            metadata={"error_id": error_id},
        )


ERROR_KINDS: dict[str, type[DomainError]] = {
    cls.kind: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        FailedPrecondition,
        Aborted,
        ResourceExhausted,
        Unavailable,
        DeadlineExceeded,
        Cancelled,
        Internal,
    )
}
"""Error classes by kind, for rebuilding a stored error (idempotent replays)."""
