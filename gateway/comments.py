"""Proto comments by element full name, read from a FileDescriptorSet's source info.

``make protos`` keeps source info in gen/descriptors.binpb, so the OpenAPI document can
describe every operation, message and field with the contract's own words.
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import descriptor_pb2

# Field numbers of the repeated fields that make up a location path.
_FILE_MESSAGES, _FILE_ENUMS, _FILE_SERVICES = 4, 5, 6
_MESSAGE_FIELDS, _MESSAGE_NESTED, _MESSAGE_ENUMS = 2, 3, 4
_SERVICE_METHODS = 2


def comments_by_name(files: Iterable[descriptor_pb2.FileDescriptorProto]) -> dict[str, str]:
    """Leading comments of messages, fields, enums, services and methods."""
    found: dict[str, str] = {}
    for file in files:
        by_path = {
            tuple(location.path): location.leading_comments.strip()
            for location in file.source_code_info.location
            if location.leading_comments.strip()
        }
        prefix = f"{file.package}." if file.package else ""
        for index, message in enumerate(file.message_type):
            _message(found, by_path, (_FILE_MESSAGES, index), prefix + message.name, message)
        for index, enum in enumerate(file.enum_type):
            _note(found, by_path, (_FILE_ENUMS, index), prefix + enum.name)
        for index, service in enumerate(file.service):
            path = (_FILE_SERVICES, index)
            _note(found, by_path, path, prefix + service.name)
            for number, method in enumerate(service.method):
                method_path = (*path, _SERVICE_METHODS, number)
                _note(found, by_path, method_path, f"{prefix}{service.name}.{method.name}")
    return found


def _message(
    found: dict[str, str],
    by_path: dict[tuple[int, ...], str],
    path: tuple[int, ...],
    name: str,
    message: descriptor_pb2.DescriptorProto,
) -> None:
    _note(found, by_path, path, name)
    for index, field in enumerate(message.field):
        _note(found, by_path, (*path, _MESSAGE_FIELDS, index), f"{name}.{field.name}")
    for index, nested in enumerate(message.nested_type):
        _message(found, by_path, (*path, _MESSAGE_NESTED, index), f"{name}.{nested.name}", nested)
    for index, enum in enumerate(message.enum_type):
        _note(found, by_path, (*path, _MESSAGE_ENUMS, index), f"{name}.{enum.name}")


def _note(
    found: dict[str, str], by_path: dict[tuple[int, ...], str], path: tuple[int, ...], name: str
) -> None:
    if path in by_path:
        found[name] = by_path[path]
