"""The OpenAPI 3.1 document generated from the route table is valid and complete, and
marks admin operations as needing the API key."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import descriptor_pb2
from openapi_spec_validator import validate

from gateway.comments import comments_by_name
from gateway.descriptors import DEFAULT_DESCRIPTORS
from gateway.openapi import API_KEY_SCHEME, openapi_document
from gateway.routes import RouteTable
from gateway.visibility import ADMIN_SURFACE, PUBLIC_SURFACE, WHOLE_CONTRACT, Visibility

COMMENTS = comments_by_name(
    descriptor_pb2.FileDescriptorSet.FromString(DEFAULT_DESCRIPTORS.read_bytes()).file
)


def _document(surface: frozenset[Visibility], **options: Any) -> dict[str, Any]:
    table = RouteTable.from_descriptor_set(surface=surface)
    return openapi_document(table.routes, COMMENTS, **options)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """Every annotated RPC's operations, so that every shape of the contract is generated
    (the gateway itself documents only what it routes)."""
    return _document(WHOLE_CONTRACT)


def test_document_validates_as_openapi_3_1(document: dict[str, Any]) -> None:
    """openapi-spec-validator accepts the generated document."""
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_route_is_an_operation_with_a_unique_id(document: dict[str, Any]) -> None:
    """Each route (additional bindings included) appears once, with a unique operationId."""
    table = RouteTable.from_descriptor_set(surface=WHOLE_CONTRACT)
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


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in document["paths"].values() for op in item.values()}


def test_public_document_has_no_security_and_no_admin_operation() -> None:
    """The default surface documents public operations only, none needing a key."""
    document = _document(PUBLIC_SURFACE)
    validate(document)
    assert "securitySchemes" not in document["components"]
    assert all("security" not in op for op in _operations(document).values())
    assert "OrdersService_CancelOrder" not in _operations(document)


def test_admin_operations_need_the_api_key_and_document_a_401() -> None:
    """With admin routes, each admin operation requires the apiKey scheme (x-api-key) and
    lists a 401; public operations stay open and no global requirement appears."""
    document = _document(ADMIN_SURFACE)
    validate(document)
    scheme = document["components"]["securitySchemes"][API_KEY_SCHEME]
    assert scheme == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    assert "security" not in document
    operations = _operations(document)
    admin = {
        "OrdersService_CancelOrder",
        "OrdersService_WatchOrders",
        "OrdersService_WatchOrders_2",
        "InventoryService_Restock",
        "InventoryService_GetReservation",
        "PaymentsService_Refund",
        "PaymentsService_GetCharge",
    }
    for operation_id, operation in operations.items():
        if operation_id in admin:
            assert operation["security"] == [{API_KEY_SCHEME: []}], operation_id
            assert "401" in operation["responses"], operation_id
            assert "API key" in operation["description"], operation_id
        else:
            assert "security" not in operation, operation_id
            assert "401" not in operation["responses"], operation_id
    assert admin <= set(operations)


def test_edge_security_schemes_are_kept_beside_the_admin_scheme() -> None:
    """Schemes of the edge's prefix rules stay global requirements; admin operations
    still name the API key scheme alone."""
    bearer = {"bearer": {"type": "http", "scheme": "bearer"}}
    document = _document(ADMIN_SURFACE, security_schemes=bearer)
    validate(document)
    assert set(document["components"]["securitySchemes"]) == {"bearer", API_KEY_SCHEME}
    assert document["security"] == [{"bearer": []}]
    refund = _operations(document)["PaymentsService_Refund"]
    assert refund["security"] == [{API_KEY_SCHEME: []}]
