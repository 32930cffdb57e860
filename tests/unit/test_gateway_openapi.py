"""The OpenAPI 3.1 document generated from the route table is valid and complete."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import descriptor_pb2
from openapi_spec_validator import validate

from gateway.comments import comments_by_name
from gateway.descriptors import DEFAULT_DESCRIPTORS
from gateway.openapi import openapi_document
from gateway.routes import RouteTable


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    table = RouteTable.from_descriptor_set()
    files = descriptor_pb2.FileDescriptorSet.FromString(DEFAULT_DESCRIPTORS.read_bytes()).file
    return openapi_document(table.routes, comments_by_name(files))


def test_document_validates_as_openapi_3_1(document: dict[str, Any]) -> None:
    """openapi-spec-validator accepts the generated document."""
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_route_is_an_operation_with_a_unique_id(document: dict[str, Any]) -> None:
    """Each route (additional bindings included) appears once, with a unique operationId."""
    table = RouteTable.from_descriptor_set()
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert len(operations) == len(table.routes)
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))


def test_parameters_and_bodies_follow_the_http_rules(document: dict[str, Any]) -> None:
    """Path variables are path parameters, other fields of GETs are query parameters,
    body "*" routes carry the message minus its path fields, streams are NDJSON."""
    get_product = document["paths"]["/v1/products/{sku}"]["get"]
    assert [p["name"] for p in get_product["parameters"]] == ["sku"]
    listing = document["paths"]["/v1/products"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"category", "limit", "after_sku"}
    assert "application/x-ndjson" in listing["responses"]["200"]["content"]
    cancel = document["paths"]["/v1/orders/{order_id}:cancel"]["post"]
    body = cancel["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {"reason"}
    quotes = document["paths"]["/v1/quotes:stream"]["post"]
    assert "application/x-ndjson" in quotes["requestBody"]["content"]


def test_proto_comments_become_descriptions(document: dict[str, Any]) -> None:
    """Operation summaries and field descriptions are the contract's comments."""
    get_product = document["paths"]["/v1/products/{sku}"]["get"]
    assert get_product["summary"] == "Looks up one product by SKU."
    product = document["components"]["schemas"]["shopmesh.catalog.v1.Product"]
    assert "Stock keeping unit" in product["properties"]["sku"]["description"]


def test_int64_is_a_string_and_enums_are_names(document: dict[str, Any]) -> None:
    """Schemas follow the proto3 JSON mapping."""
    schemas = document["components"]["schemas"]
    money = schemas["shopmesh.common.v1.Money"]["properties"]["amountMinor"]
    assert money["type"] == "string"
    state = schemas["shopmesh.orders.v1.OrderState"]
    assert "ORDER_STATE_CONFIRMED" in state["enum"]
