"""JSON Schemas (OpenAPI 3.1) for protobuf messages, following the proto3 JSON mapping.

64-bit integers are JSON strings, enums are names, bytes are base64, and the well-known
types have their special forms (Timestamp as RFC 3339 text, Duration as "1.5s", ...).
Field names are the lowerCamelCase JSON names the gateway writes; it reads both.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

T = FieldDescriptor
_INT32 = {T.TYPE_INT32, T.TYPE_SINT32, T.TYPE_SFIXED32}
_UINT32 = {T.TYPE_UINT32, T.TYPE_FIXED32}
_INT64 = {T.TYPE_INT64, T.TYPE_SINT64, T.TYPE_SFIXED64}
_UINT64 = {T.TYPE_UINT64, T.TYPE_FIXED64}

WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
    },
    "google.protobuf.StringValue": {"type": ["string", "null"]},
    "google.protobuf.BytesValue": {"type": ["string", "null"], "contentEncoding": "base64"},
    "google.protobuf.BoolValue": {"type": ["boolean", "null"]},
    "google.protobuf.Int32Value": {"type": ["integer", "null"], "format": "int32"},
    "google.protobuf.UInt32Value": {"type": ["integer", "null"], "format": "uint32"},
    "google.protobuf.Int64Value": {"type": ["string", "null"], "format": "int64"},
    "google.protobuf.UInt64Value": {"type": ["string", "null"], "format": "uint64"},
    "google.protobuf.DoubleValue": {"type": ["number", "null"]},
    "google.protobuf.FloatValue": {"type": ["number", "null"]},
}


def ref(full_name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{full_name}"}


class SchemaBuilder:
    """Collects component schemas for messages and enums reachable from the API."""

    def __init__(self, comments: dict[str, str]) -> None:
        self._comments = comments
        self.components: dict[str, dict[str, Any]] = {}

    def message(
        self, message: Descriptor, *, without: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """A reference to ``message``'s schema; ``without`` drops top-level fields inline."""
        if message.full_name in WELL_KNOWN:
            return dict(WELL_KNOWN[message.full_name])
        if message.full_name not in self.components:
            self.components[message.full_name] = {}  # placeholder breaks recursion
            self.components[message.full_name] = self._object(message, frozenset())
        if not without:
            return ref(message.full_name)
        return self._object(message, without)

    def field(self, field: FieldDescriptor) -> dict[str, Any]:
        """The schema of one field's JSON value (arrays and maps included)."""
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            return {"type": "object", "additionalProperties": self._single(value_field)}
        schema = self._single(field)
        if field.is_repeated:
            schema = {"type": "array", "items": schema}
        return self._described(schema, self._comments.get(field.full_name))

    def _object(self, message: Descriptor, without: frozenset[str]) -> dict[str, Any]:
        properties = {
            field.json_name: self.field(field)
            for field in message.fields
            if field.name not in without
        }
        schema = {"type": "object", "properties": properties, "additionalProperties": False}
        return self._described(schema, self._comments.get(message.full_name))

    def _single(self, field: FieldDescriptor) -> dict[str, Any]:
        kind = field.type
        if field.message_type is not None:
            return self.message(field.message_type)
        if field.enum_type is not None:
            return self._enum(field.enum_type)
        if kind in _INT32:
            return {"type": "integer", "format": "int32"}
        if kind in _UINT32:
            return {"type": "integer", "format": "uint32", "minimum": 0}
        if kind in _INT64:
            return {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
        if kind in _UINT64:
            return {"type": "string", "format": "uint64", "pattern": "^[0-9]+$"}
        if kind in {T.TYPE_DOUBLE, T.TYPE_FLOAT}:
            return {"type": "number"}
        if kind == T.TYPE_BOOL:
            return {"type": "boolean"}
        if kind == T.TYPE_BYTES:
            return {"type": "string", "contentEncoding": "base64"}
        return {"type": "string"}

    def _enum(self, enum: EnumDescriptor) -> dict[str, Any]:
        if enum.full_name not in self.components:
            schema = {"type": "string", "enum": [value.name for value in enum.values]}
            self.components[enum.full_name] = self._described(
                schema, self._comments.get(enum.full_name)
            )
        return ref(enum.full_name)

    @staticmethod
    def _described(schema: dict[str, Any], text: str | None) -> dict[str, Any]:
        if text:
            if "$ref" in schema:
                return {"allOf": [schema], "description": text}
            schema["description"] = text
        return schema
