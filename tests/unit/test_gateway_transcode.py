"""Request messages built from body, path and query; strict JSON; response rendering."""

from __future__ import annotations

import json

import pytest
from google.protobuf import message

from gateway.descriptors import load_pool, message_class
from gateway.json_body import MAX_DEPTH, parse_json
from gateway.problems import BadRequest
from gateway.transcode import build_request, render_response

POOL = load_pool()


def _cls(name: str) -> type[message.Message]:
    return message_class(POOL, name)


def _build(
    name: str,
    body_field: str = "",
    body: bytes = b"",
    bindings: dict[str, str] | None = None,
    query: list[tuple[str, str]] | None = None,
) -> message.Message:
    return build_request(
        _cls(name),
        POOL,
        body_field=body_field,
        body=body,
        bindings=bindings or {},
        query=query or [],
    )


def test_path_binding_and_query_fill_the_request() -> None:
    """Path variables and query parameters (proto or JSON names) land in their fields."""
    request = _build(
        "shopmesh.catalog.v1.ListProductsRequest",
        query=[("category", "books"), ("limit", "3"), ("afterSku", "SKU-00002")],
    )
    assert (request.category, request.limit, request.after_sku) == ("books", 3, "SKU-00002")  # type: ignore[attr-defined]
    got = _build("shopmesh.catalog.v1.GetProductRequest", bindings={"sku": "SKU-00042"})
    assert got.sku == "SKU-00042"  # type: ignore[attr-defined]


def test_repeated_query_parameter_collects_every_value() -> None:
    """A repeated field takes each occurrence of its query parameter, in order."""
    request = _build(
        "shopmesh.catalog.v1.BatchGetProductsRequest",
        query=[("skus", "SKU-00001"), ("skus", "SKU-00002")],
    )
    assert list(request.skus) == ["SKU-00001", "SKU-00002"]  # type: ignore[attr-defined]


def test_body_star_parses_the_whole_message_with_int64_as_string() -> None:
    """body "*" reads the message from the JSON object; int64 values arrive exactly."""
    body = json.dumps(
        {
            "idempotencyKey": "k",
            "amount": {"currencyCode": "USD", "amountMinor": "9007199254740993"},
        }
    ).encode()
    request = _build("shopmesh.payments.v1.ChargeRequest", "*", body)
    assert request.amount.amount_minor == 9007199254740993  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"sku": "x"', "malformed JSON"),  # R-A1 truncated
        (b'{"sku" "x"}', "malformed JSON"),  # R-A1 missing colon
        (b'{"sku": "x"} trailing', "malformed JSON"),  # R-A1 trailing garbage
        (b"", "empty"),  # R-A1 empty where required
        (b'{"sku": "\xc0\xaf"}', "UTF-8"),  # R-A2 overlong encoding
        (b'{"sku": "\xff"}', "UTF-8"),  # R-A2 invalid byte
        (b'{"sku": "\\ud800"}', "surrogate"),  # R-A2 lone surrogate escape
        (b'{"bogus": 1}', "bogus"),  # R-A3 unknown field named
        (b'{"sku": "a", "sku": "b"}', "duplicate JSON key 'sku'"),  # R-A7
        (b'{"quantity": "many"}', "quantity"),  # R-A9 wrong type
        (b'{"quantity": true}', "quantity"),  # R-A9 bool for int
    ],
)
def test_bad_bodies_are_bad_requests_naming_the_problem(body: bytes, fragment: str) -> None:
    """Every malformed or mistyped body is a BadRequest whose message names the problem."""
    with pytest.raises(BadRequest) as caught:
        _build("shopmesh.inventory.v1.ReserveRequest", "*", body)
    assert fragment in caught.value.message


def test_path_variable_and_body_field_collision_is_rejected() -> None:
    """R-A6: a field bound by the path and also set in a body "*" is a 400."""
    with pytest.raises(BadRequest) as caught:
        _build(
            "shopmesh.inventory.v1.ReleaseRequest",
            "*",
            b'{"reservationKey": "b"}',
            bindings={"reservation_key": "a"},
        )
    assert "set twice" in caught.value.message


def test_unknown_query_parameter_is_rejected() -> None:
    """R-A4: a query parameter naming no field is a 400 naming it."""
    with pytest.raises(BadRequest) as caught:
        _build("shopmesh.catalog.v1.ListProductsRequest", query=[("colour", "red")])
    assert "colour" in caught.value.message


def test_body_on_a_bodiless_method_is_rejected() -> None:
    """A GET route without a body rule refuses a request body instead of ignoring it."""
    with pytest.raises(BadRequest):
        _build("shopmesh.catalog.v1.GetProductRequest", "", b'{"sku": "x"}')


@pytest.mark.parametrize("depth", [32, MAX_DEPTH])
def test_nesting_up_to_the_limit_parses(depth: int) -> None:
    """R-A8: nesting up to the limit round-trips."""
    text = "[" * depth + "]" * depth
    assert json.dumps(parse_json(text), separators=(",", ":")) == text


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000])
def test_nesting_past_the_limit_is_refused_without_recursion(depth: int) -> None:
    """R-A8: 101 and 10,000 levels are a BadRequest, never a RecursionError."""
    with pytest.raises(BadRequest, match="deeper"):
        parse_json('{"a":' * depth + "1" + "}" * depth)


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    """Depth counts structure only: brackets in string values are text."""
    assert parse_json(json.dumps({"text": "[" * 500 + '\\"{'})) == {"text": "[" * 500 + '\\"{'}


def test_response_renders_camel_case_and_response_body() -> None:
    """Replies render as proto3 JSON; response_body picks one field."""
    reply = _cls("shopmesh.catalog.v1.GetProductResponse")()
    reply.product.sku = "SKU-00001"  # type: ignore[attr-defined]
    reply.product.list_price.amount_minor = 5  # type: ignore[attr-defined]
    assert render_response(reply, POOL) == {
        "product": {"sku": "SKU-00001", "listPrice": {"amountMinor": "5"}}
    }
    assert render_response(reply, POOL, "product") == {
        "sku": "SKU-00001",
        "listPrice": {"amountMinor": "5"},
    }


def test_query_values_take_well_known_and_enum_json_forms() -> None:
    """Timestamps (RFC 3339), Durations ("1.5s"), enums by name and int64 travel in query
    parameters as their proto3 JSON forms; a malformed timestamp is a 400 (R-A9)."""
    event = _build(
        "shopmesh.orders.v1.OrderEvent",
        query=[
            ("createTime", "2026-01-02T03:04:05Z"),
            ("type", "ORDER_EVENT_TYPE_CREATED"),
            ("sequence", "9007199254740993"),
        ],
    )
    assert event.create_time.seconds == 1767323045  # type: ignore[attr-defined]
    assert event.type == 1  # type: ignore[attr-defined]
    assert event.sequence == 9007199254740993  # type: ignore[attr-defined]
    retry = _build("google.rpc.RetryInfo", query=[("retry_delay", "1.5s")])
    assert retry.retry_delay.nanos == 500_000_000  # type: ignore[attr-defined]
    with pytest.raises(BadRequest):
        _build("shopmesh.orders.v1.OrderEvent", query=[("createTime", "yesterday")])
    with pytest.raises(BadRequest):
        _build("shopmesh.orders.v1.OrderEvent", query=[("type", "NOT_A_TYPE")])
