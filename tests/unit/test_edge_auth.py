"""Route policy, path normalisation and secret matching of the edge authentication."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.edge.auth import SecretTable, normalize_path, prefix_policy
from gateway.edge.config import Credential


def _request(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path}


def test_prefix_policy_longest_prefix_wins_else_default() -> None:
    """Overrides apply by longest path prefix; unmatched paths get the default rule."""
    policy = prefix_policy("none", [("/v1", "api_key"), ("/v1/charges", "bearer")])
    assert policy(_request("GET", "/v1/charges/ch-1")) == "bearer"
    assert policy(_request("POST", "/v1/orders")) == "api_key"
    assert policy(_request("GET", "/healthz")) == "none"


def test_prefix_policy_matches_the_normalised_path() -> None:
    """Empty, dot and dot-dot segments cannot spell a path out of its prefix rule."""
    policy = prefix_policy("none", [("/v1/charges", "api_key")])
    for path in ("//v1//charges/ch-1", "/v1/./charges", "/public/../v1/charges/x"):
        assert policy(_request("GET", path)) == "api_key", path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/orders", "/v1/orders"),
        ("//v1//orders", "/v1/orders"),
        ("/v1/./orders/", "/v1/orders"),
        ("/public/../v1/orders", "/v1/orders"),
        ("/../../v1/orders", "/v1/orders"),
        ("", "/"),
    ],
)
def test_normalize_path_resolves_spellings_of_the_same_path(path: str, expected: str) -> None:
    """Empty, dot and dot-dot segments cannot make a path escape its prefix rule."""
    assert normalize_path(path) == expected


def test_secret_table_maps_each_secret_to_its_client_only() -> None:
    """The exact secret finds its client; prefixes, extensions and case changes find none."""
    table = SecretTable(
        [Credential("web", "0123456789abcdef"), Credential("ops", "fedcba9876543210")]
    )
    assert table.client_for(b"0123456789abcdef") == "web"
    assert table.client_for(b"fedcba9876543210") == "ops"
    for wrong in (b"", b"0123456789abcde", b"0123456789abcdef0", b"0123456789ABCDEF"):
        assert table.client_for(wrong) is None
