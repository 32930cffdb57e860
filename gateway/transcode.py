"""google.api.http transcoding between JSON/HTTP requests and protobuf messages.

A request message is assembled from three sources, per the HttpRule: the JSON body (the
whole message for ``body: "*"``, one field for ``body: "field"``), the path variables,
and query parameters for every field neither of those binds. All three are merged into
one JSON-shaped dict and parsed once by ``json_format.ParseDict``, so every value, from
whichever source, gets proto3 JSON typing and the same error messages. A field set by
two sources is a 400 (R-A6); an unknown query parameter is a 400 (R-A4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf import descriptor, descriptor_pool, json_format, message
from google.protobuf.descriptor import FieldDescriptor

from gateway.json_body import decode_text, parse_json
from gateway.problems import BadRequest

# Well-known types whose JSON form is a string or scalar, so a query value fits as is.
_SCALAR_MESSAGES = {
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "google.protobuf.FieldMask",
    "google.protobuf.DoubleValue",
    "google.protobuf.FloatValue",
    "google.protobuf.Int64Value",
    "google.protobuf.UInt64Value",
    "google.protobuf.Int32Value",
    "google.protobuf.UInt32Value",
    "google.protobuf.BoolValue",
    "google.protobuf.StringValue",
    "google.protobuf.BytesValue",
}
_INTEGERS = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_FIXED32,
}
_FLOATS = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}


def _field(message_type: descriptor.Descriptor, name: str) -> FieldDescriptor | None:
    """A field by proto name or JSON name (query parameters may use either)."""
    field = message_type.fields_by_name.get(name)
    if field is None:
        field = next((f for f in message_type.fields if f.json_name == name), None)
    return field


def _resolve(message_type: descriptor.Descriptor, path: str, source: str) -> list[FieldDescriptor]:
    """The fields along a dotted path; unknown names are a 400 naming the path."""
    fields: list[FieldDescriptor] = []
    current: descriptor.Descriptor | None = message_type
    for part in path.split("."):
        field = _field(current, part) if current is not None else None
        if field is None:
            raise BadRequest(f"unknown {source} {path!r} for {message_type.full_name}")
        fields.append(field)
        current = field.message_type
        if current is not None and current.full_name in _SCALAR_MESSAGES:
            current = None  # a scalar-like leaf: nothing below it can be addressed
    return fields


def _scalar(field: FieldDescriptor, raw: str, source: str) -> Any:
    """A text value (path or query) as the JSON value proto3 JSON expects for ``field``."""
    if field.type in _INTEGERS:
        try:
            return int(raw)
        except ValueError:
            raise BadRequest(f"{source} {field.name!r}: {raw!r} is not an integer") from None
    if field.type in _FLOATS:
        try:
            return float(raw)
        except ValueError:
            raise BadRequest(f"{source} {field.name!r}: {raw!r} is not a number") from None
    if field.type == FieldDescriptor.TYPE_BOOL:
        if raw not in {"true", "false"}:
            raise BadRequest(f"{source} {field.name!r}: {raw!r} is not true or false")
        return raw == "true"
    # strings, 64-bit integers (JSON strings), enums by name, bytes (base64), and the
    # well-known types whose JSON form is a string: ParseDict checks them.
    return raw


def _key(target: dict[str, Any], field: FieldDescriptor) -> str:
    """The key ``field`` already has in ``target`` (a body may use either name)."""
    return field.json_name if field.json_name in target else field.name


def _place(target: dict[str, Any], fields: list[FieldDescriptor], value: Any, source: str) -> None:
    """Sets ``value`` at the field path in the JSON-shaped dict, refusing collisions."""
    for field in fields[:-1]:
        if field.is_repeated:
            raise BadRequest(f"{source} cannot address inside repeated field {field.name!r}")
        child = target.setdefault(_key(target, field), {})
        if not isinstance(child, dict):
            raise BadRequest(f"{source} {field.name!r} collides with a value set elsewhere")
        target = child
    leaf = fields[-1]
    key = _key(target, leaf)
    if leaf.is_repeated:
        existing = target.setdefault(key, [])
        if not isinstance(existing, list):
            raise BadRequest(f"{source} {leaf.name!r} collides with a value set elsewhere")
        existing.append(value)
        return
    if key in target:
        raise BadRequest(f"field {leaf.name!r} is set twice (path, body or query)")
    target[key] = value


def _all_top_level_strings(
    message_type: descriptor.Descriptor, bindings: Mapping[str, str]
) -> bool:
    for name in bindings:
        field = message_type.fields_by_name.get(name)
        if field is None or field.type != FieldDescriptor.TYPE_STRING or field.is_repeated:
            return False
    return True


def build_request(
    message_class: type[message.Message],
    pool: descriptor_pool.DescriptorPool,
    *,
    body_field: str,
    body: bytes,
    bindings: Mapping[str, str],
    query: Sequence[tuple[str, str]],
) -> message.Message:
    """The request message for one HTTP request, or a BadRequest naming what is wrong."""
    message_type: descriptor.Descriptor = message_class.DESCRIPTOR  # type: ignore[assignment]
    if (
        not body_field
        and not body.strip()
        and not query
        and _all_top_level_strings(message_type, bindings)
    ):
        # The common GET /v1/things/{id}: nothing for ParseDict to check or convert.
        return message_class(**bindings)
    document: dict[str, Any] = {}
    if body_field:
        parsed = parse_json(decode_text(body))
        if body_field == "*":
            if not isinstance(parsed, dict):
                raise BadRequest("request body must be a JSON object")
            document = parsed
        else:
            fields = _resolve(message_type, body_field, "body field")
            document[fields[-1].name] = parsed
    elif body.strip():
        raise BadRequest("this method takes no request body")
    for path, raw in bindings.items():
        fields = _resolve(message_type, path, "path variable")
        _place(document, fields, _scalar(fields[-1], raw, "path variable"), "path variable")
    for name, raw in query:
        if body_field == "*":
            raise BadRequest(f"unknown query parameter {name!r}: the body carries every field")
        fields = _resolve(message_type, name, "query parameter")
        _place(document, fields, _scalar(fields[-1], raw, "query parameter"), "query parameter")
    request = message_class()
    try:
        json_format.ParseDict(document, request, descriptor_pool=pool)
    except json_format.ParseError as exc:
        raise BadRequest(str(exc).split("\n", 1)[0]) from None
    return request


def render_response(
    reply: message.Message, pool: descriptor_pool.DescriptorPool, response_body: str = ""
) -> Any:
    """The JSON value of a reply (or of its ``response_body`` field)."""
    rendered = json_format.MessageToDict(reply, descriptor_pool=pool)
    if not response_body:
        return rendered
    field = reply.DESCRIPTOR.fields_by_name[response_body]
    return rendered.get(field.json_name)
