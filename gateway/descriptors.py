"""The gateway's descriptor pool: the services' contracts plus the error-detail types.

The pool is built from a serialized FileDescriptorSet (``make protos`` writes
gen/descriptors.binpb), never from generated Python modules, so the gateway can front a
service written in any language. google/rpc/error_details.proto is added when the set
lacks it, so ``google.rpc.Status`` details inside replies render as JSON.
"""

from __future__ import annotations

from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, duration_pb2, message, message_factory
from google.rpc import error_details_pb2

DEFAULT_DESCRIPTORS = Path(__file__).resolve().parent.parent / "gen" / "descriptors.binpb"

# Files always present, in dependency order (error details need Duration).
_ALWAYS = (duration_pb2.DESCRIPTOR, error_details_pb2.DESCRIPTOR)


def load_pool(path: Path = DEFAULT_DESCRIPTORS) -> descriptor_pool.DescriptorPool:
    """A fresh pool holding every file of the set at ``path`` (dependencies first)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileNotFoundError(
            f"descriptor set {path} not readable ({exc}); run make protos"
        ) from exc
    files = {f.name: f for f in descriptor_pb2.FileDescriptorSet.FromString(data).file}
    for extra in _ALWAYS:
        if extra.name not in files:
            proto = descriptor_pb2.FileDescriptorProto()
            extra.CopyToProto(proto)
            files[proto.name] = proto
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(name: str) -> None:
        if name in added:
            return
        added.add(name)
        for dependency in files[name].dependency:
            add(dependency)
        pool.Add(files[name])

    for name in files:
        add(name)
    return pool


def message_class(pool: descriptor_pool.DescriptorPool, full_name: str) -> type[message.Message]:
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))
