"""REST routes match by segment: literals beat variables, encoded slashes stay inside a
variable, and a known path with the wrong method lists the methods it allows."""

from __future__ import annotations

from typing import Any

import pytest

from meshkit.runtime.rest.request import RestRequest
from meshkit.runtime.rest.router import Route, Router


async def _handler(request: RestRequest) -> dict[str, Any]:
    return {}


ROUTER = Router(
    [
        Route("GET", "/v1/products/{sku}", _handler),
        Route("POST", "/v1/products/lookup", _handler),
        Route("GET", "/v1/products", _handler),
        Route("POST", "/v1/reservations/{key}/release", _handler),
    ]
)


def _match(method: str, path: bytes) -> tuple[str, dict[str, str]] | list[str]:
    found = ROUTER.match(method, path)
    return (found[0].template, found[1]) if isinstance(found, tuple) else found


def test_variables_are_bound_and_decoded() -> None:
    """A variable takes one decoded segment; an encoded slash does not split it."""
    assert _match("GET", b"/v1/products/SKU-1") == ("/v1/products/{sku}", {"sku": "SKU-1"})
    assert _match("POST", b"/v1/reservations/ord_1%2F0/release") == (
        "/v1/reservations/{key}/release",
        {"key": "ord_1/0"},
    )


def test_a_literal_wins_over_a_variable() -> None:
    """POST /v1/products/lookup is the lookup, not a product called "lookup"."""
    assert _match("POST", b"/v1/products/lookup") == ("/v1/products/lookup", {})


def test_wrong_method_lists_the_allowed_ones_and_unknown_paths_none() -> None:
    """405 material for a known path, nothing (404) for an unknown one or an empty variable."""
    assert _match("DELETE", b"/v1/products/SKU-1") == ["GET"]
    assert _match("GET", b"/v1/nothing") == []
    assert _match("GET", b"/v1/products/") == []
    assert _match("GET", b"v1/products") == []


def test_two_routes_of_one_shape_are_refused() -> None:
    """A second handler for the same method and path shape is a build-time error."""
    with pytest.raises(ValueError, match="share"):
        Router([Route("GET", "/a/{x}", _handler), Route("GET", "/a/{y}", _handler)])
