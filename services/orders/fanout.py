"""Per-item fan-out, shared by the per-item REST and gRPC adapters of the ports.

Requests for the items of one order go out concurrently and all run to the end; the
first error in request order wins, as on a stream. A reservation that failed with one of
``IN_DOUBT_KINDS`` may still have been made, so it fails the whole step (the saga keeps it
"in doubt" and compensates it) instead of failing only its item.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from meshkit.errors import DomainError, NotFound
from services.orders.ports import ProductInfo, ReservationOutcome, ReservationRequest

T = TypeVar("T")

IN_DOUBT_KINDS = frozenset({"unavailable", "deadline_exceeded", "cancelled", "internal"})


async def each(calls: Sequence[Awaitable[T]]) -> list[T | DomainError]:
    """Runs ``calls`` concurrently to the end; DomainErrors are returned in place."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, DomainError):
            raise result
    return results  # type: ignore[return-value]  # only T or DomainError are left


async def all_or_first_error(calls: Sequence[Awaitable[T]]) -> list[T]:
    """Every result, or the first error in request order."""
    results = await each(calls)
    for result in results:
        if isinstance(result, DomainError):
            raise result
    return results  # type: ignore[return-value]  # no DomainError is left


async def products_found(
    skus: Sequence[str], get: Callable[[str], Awaitable[ProductInfo]]
) -> Mapping[str, ProductInfo]:
    """One lookup per SKU; unknown SKUs are simply absent (the port's contract)."""
    found: dict[str, ProductInfo] = {}
    for result in await each([get(sku) for sku in skus]):
        if isinstance(result, NotFound):
            continue
        if isinstance(result, DomainError):
            raise result
        found[result.sku] = result
    return found


async def reservation_outcomes(
    requests: Sequence[ReservationRequest],
    reserve: Callable[[ReservationRequest], Awaitable[None]],
) -> list[ReservationOutcome]:
    """One reservation per request; an item's own failure is its outcome."""
    outcomes: list[ReservationOutcome] = []
    for request, result in zip(requests, await each([reserve(r) for r in requests]), strict=True):
        if isinstance(result, DomainError):
            if result.kind in IN_DOUBT_KINDS:
                raise result
            outcomes.append(ReservationOutcome(request.reservation_key, result))
        else:
            outcomes.append(ReservationOutcome(request.reservation_key))
    return outcomes
