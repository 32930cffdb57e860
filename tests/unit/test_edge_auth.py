"""Route policy, path normalisation and secret matching of the edge authentication."""

from __future__ import annotations

import pytest

from gateway.edge.auth import SecretTable, normalize_path, prefix_policy
from gateway.edge.config import Credential


def test_prefix_policy_longest_prefix_wins_else_default() -> None:
    """Overrides apply by longest path prefix; unmatched paths get the default rule."""
    policy = prefix_policy("none", [("/v1", "api_key"), ("/v1/charges", "bearer")])
    assert policy("GET", "/v1/charges/ch-1") == "bearer"
    assert policy("POST", "/v1/orders") == "api_key"
    assert policy("GET", "/healthz") == "none"


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
