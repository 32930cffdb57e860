"""OpenAPI 3.1 for the gateway, generated from the same route table and descriptors.

Every route of the table is an operation (additional bindings included), and nothing
else: the document shows exactly what the gateway routes. Path variables are path
parameters, the remaining fields of bodiless routes are query parameters, errors are
google.rpc.Status, streaming shapes are NDJSON. Descriptions are the proto comments.
Admin operations carry the API key security scheme and a 401 answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from gateway.edge.auth import API_KEY_HEADER
from gateway.routes import Route
from gateway.schemas import WELL_KNOWN, SchemaBuilder, ref
from gateway.visibility import Visibility

_VARIABLE = re.compile(r"\{([^}=]+)(=[^}]*)?\}")
STATUS_SCHEMA = "google.rpc.Status"
NDJSON = "application/x-ndjson"
API_KEY_SCHEME = "apiKey"
"""The name of the edge's API key security scheme."""
API_KEY_SECURITY: dict[str, Any] = {
    "type": "apiKey",
    "in": "header",
    "name": API_KEY_HEADER.decode(),
}
ADMIN_NOTE = "Admin operation: needs an API key in the x-api-key header."


def openapi_document(
    routes: Sequence[Route],
    comments: dict[str, str],
    *,
    title: str = "shopmesh public API",
    version: str = "v1",
    security_schemes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole document; deterministic for a given route table and comments."""
    builder = SchemaBuilder(comments)
    paths: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    for route in sorted(routes, key=lambda r: (_path(r), r.http_method)):
        operation = _operation(route, builder, comments)
        base = operation["operationId"]
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:  # an additional binding of the same RPC
            operation["operationId"] = f"{base}_{seen[base]}"
        paths.setdefault(_path(route), {})[route.http_method.lower()] = operation
    components: dict[str, Any] = {"schemas": {**builder.components, STATUS_SCHEMA: _status()}}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": components,
    }
    schemes = dict(security_schemes or {})
    if security_schemes:
        document["security"] = [{name: []} for name in security_schemes]
    if any(route.visibility is Visibility.ADMIN for route in routes):
        schemes[API_KEY_SCHEME] = API_KEY_SECURITY
    if schemes:
        components["securitySchemes"] = schemes
    return document


def _path(route: Route) -> str:
    """The template as an OpenAPI path: ``{name=shelves/*}`` becomes ``{name}``."""
    return _VARIABLE.sub(lambda m: "{" + m.group(1) + "}", str(route.template))


def _operation(route: Route, builder: SchemaBuilder, comments: dict[str, str]) -> dict[str, Any]:
    method = route.method
    full_name = f"{route.service}.{method.name}"
    variables = tuple(route.template.variables)
    operation: dict[str, Any] = {
        "operationId": _operation_id(route),
        "tags": [route.service.rsplit(".", 1)[-1]],
        "summary": _first_sentence(comments.get(full_name, "")),
        "description": comments.get(full_name, ""),
        "parameters": [_path_parameter(method.input_type, v, builder) for v in variables],
        "responses": _responses(route, builder),
    }
    if not route.body:
        operation["parameters"] += _query_parameters(method.input_type, variables, builder)
    else:
        operation["requestBody"] = _request_body(route, variables, builder)
    if route.visibility is Visibility.ADMIN:
        operation["security"] = [{API_KEY_SCHEME: []}]
        operation["description"] = f"{operation['description']}\n\n{ADMIN_NOTE}".lstrip()
        operation["responses"]["401"] = {
            "description": "No valid API key",
            "content": {"application/json": {"schema": ref(STATUS_SCHEMA)}},
        }
    return operation


def _first_sentence(text: str) -> str:
    """The comment's first sentence, on one line (comments wrap mid-sentence)."""
    flat = " ".join(text.split())
    end = flat.find(". ")
    return flat if end < 0 else flat[: end + 1]


def _operation_id(route: Route) -> str:
    """``Service_Method`` (the document suffixes additional bindings' ids)."""
    return f"{route.service.rsplit('.', 1)[-1]}_{route.method.name}"


def _field_path(message: Descriptor, path: str) -> list[FieldDescriptor]:
    fields = []
    for part in path.split("."):
        field = message.fields_by_name[part]
        fields.append(field)
        if field.message_type is not None:
            message = field.message_type
    return fields


def _path_parameter(message: Descriptor, variable: str, builder: SchemaBuilder) -> dict[str, Any]:
    field = _field_path(message, variable)[-1]
    return {
        "name": variable,
        "in": "path",
        "required": True,
        "schema": builder.field(field),
    }


def _query_parameters(
    message: Descriptor, bound: Sequence[str], builder: SchemaBuilder, prefix: str = ""
) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for field in message.fields:
        name = prefix + field.name
        if name in bound:
            continue
        nested = field.message_type
        if nested is not None and nested.full_name not in WELL_KNOWN and not field.is_repeated:
            if not nested.GetOptions().map_entry and prefix.count(".") < 2:
                parameters += _query_parameters(nested, bound, builder, name + ".")
            continue
        if nested is not None and nested.full_name not in WELL_KNOWN:
            continue  # repeated messages cannot travel in a query string
        parameter: dict[str, Any] = {"name": name, "in": "query", "schema": builder.field(field)}
        if field.is_repeated:
            parameter["explode"] = True
        parameters.append(parameter)
    return parameters


def _request_body(route: Route, bound: Sequence[str], builder: SchemaBuilder) -> dict[str, Any]:
    message = route.method.input_type
    if route.body == "*":
        top_level = frozenset(v for v in bound if "." not in v)
        schema = builder.message(message, without=top_level)
    else:
        schema = builder.field(_field_path(message, route.body)[-1])
    content_type = NDJSON if route.method.client_streaming else "application/json"
    return {"required": True, "content": {content_type: {"schema": schema}}}


def _responses(route: Route, builder: SchemaBuilder) -> dict[str, Any]:
    output = route.method.output_type
    if route.response_body:
        schema = builder.field(output.fields_by_name[route.response_body])
    else:
        schema = builder.message(output)
    if route.method.server_streaming:
        line = {
            "oneOf": [
                {"type": "object", "properties": {"result": schema}, "required": ["result"]},
                {
                    "type": "object",
                    "properties": {"error": ref(STATUS_SCHEMA)},
                    "required": ["error"],
                },
            ]
        }
        ok = {"description": "One JSON document per line", "content": {NDJSON: {"schema": line}}}
    else:
        ok = {"description": "OK", "content": {"application/json": {"schema": schema}}}
    error = {
        "description": "google.rpc.Status",
        "content": {"application/json": {"schema": ref(STATUS_SCHEMA)}},
    }
    return {"200": ok, "default": error}


def _status() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "google.rpc.Status: a gRPC code, a message and typed details.",
        "properties": {
            "code": {"type": "integer", "format": "int32"},
            "message": {"type": "string"},
            "details": {"type": "array", "items": WELL_KNOWN["google.protobuf.Any"]},
        },
        "required": ["code", "message"],
    }
