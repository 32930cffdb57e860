"""Headers ↔ metadata at the edge: allow-list in, sanitised out, deadlines clamped."""

from __future__ import annotations

import pytest

from gateway.metadata import deadline_s, request_metadata, response_headers
from gateway.problems import BadRequest


def test_only_allow_listed_headers_become_metadata() -> None:
    """R-A12: allow-listed and Grpc-Metadata-* headers pass; others and XFF do not."""
    headers = [
        (b"Authorization", b"Bearer t"),
        (b"x-request-id", b"r1"),
        (b"x-operation-id", b"op1"),
        (b"traceparent", b"00-abc-def-01"),
        (b"grpc-metadata-tenant", b"acme"),
        (b"grpc-metadata-grpc-timeout", b"1S"),
        (b"grpc-metadata-blob-bin", b"xx"),
        (b"cookie", b"secret"),
        (b"x-forwarded-for", b"6.6.6.6"),
    ]
    assert request_metadata(headers, "10.0.0.7") == (
        ("authorization", "Bearer t"),
        ("x-request-id", "r1"),
        ("x-operation-id", "op1"),
        ("traceparent", "00-abc-def-01"),
        ("tenant", "acme"),
        ("x-forwarded-for", "10.0.0.7"),
    )


def test_response_metadata_cannot_inject_headers() -> None:
    """R-A14: values with CR/LF or control characters, binary and grpc-* keys are dropped."""
    headers = response_headers(
        [
            ("x-served-by", "pricing-1"),
            ("x-evil", "a\r\nSet-Cookie: s=1"),
            ("x-bell", "\x07"),
            ("grpc-status", "0"),
            ("trace-bin", b"\x00\x01"),
        ]
    )
    assert headers == [(b"grpc-metadata-x-served-by", b"pricing-1")]


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, 10.0), (b"2S", 2.0), (b"500m", 0.5), (b"1H", 30.0)],
)
def test_client_timeout_is_clamped_to_the_route_maximum(
    header: bytes | None, expected: float
) -> None:
    """R-A12: Grpc-Timeout sets the deadline up to the route maximum; none means default."""
    headers = [(b"grpc-timeout", header)] if header else []
    assert deadline_s(headers, default_s=10.0, maximum_s=30.0) == expected


def test_malformed_timeout_is_a_bad_request() -> None:
    """A Grpc-Timeout that is not <digits><unit> is refused."""
    with pytest.raises(BadRequest):
        deadline_s([(b"grpc-timeout", b"soon")], default_s=10.0, maximum_s=30.0)
