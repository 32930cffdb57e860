"""Request checks shared by the domains, so each reports every bad field at once."""

from __future__ import annotations

from collections.abc import Iterable

from meshkit.errors import FieldViolation, InvalidArgument


def violation_unless(ok: bool, field: str, description: str) -> FieldViolation | None:
    """A violation of ``field`` described as ``description``, unless ``ok``."""
    return None if ok else FieldViolation(field, description)


def text_violation(value: str, field: str, max_length: int) -> FieldViolation | None:
    """The violation when ``value`` is empty, too long or holds unprintable characters."""
    if not 1 <= len(value) <= max_length:
        return FieldViolation(field, f"must be 1 to {max_length} characters, got {len(value)}")
    if not value.isprintable():
        return FieldViolation(field, "must hold printable characters only")
    return None


def range_violation(value: int, field: str, low: int, high: int) -> FieldViolation | None:
    """The violation when ``value`` is outside [low, high]."""
    if low <= value <= high:
        return None
    return FieldViolation(field, f"must be {low} to {high}, got {value}")


def raise_violations(
    violations: Iterable[FieldViolation | None], reason: str = "INVALID_ARGUMENT"
) -> None:
    """Raises one InvalidArgument listing every violation given (Nones are skipped)."""
    found = [violation for violation in violations if violation is not None]
    if found:
        raise InvalidArgument.of(*found, reason=reason)


def idempotency_key_reused(field: str, detail: str) -> InvalidArgument:
    """The error for an idempotency key sent again with a different request."""
    return InvalidArgument.of(
        FieldViolation(field, f"was used before for a different request: {detail}"),
        reason="IDEMPOTENCY_KEY_REUSED",
    )
