"""Upstream gRPC failures as google.rpc.Status JSON, with RetryInfo as Retry-After.

The status details travel in ``grpc-status-details-bin`` (read by the runtime's
``status_of_rpc``); they are rendered with the
gateway's pool, which always knows the google.rpc error-detail types.
"""

from __future__ import annotations

import math
from typing import Any

from google.protobuf import descriptor_pool, json_format
from google.rpc import error_details_pb2, status_pb2


def status_json(status: status_pb2.Status, pool: descriptor_pool.DescriptorPool) -> dict[str, Any]:
    """``{"code", "message", "details"}``; details that cannot be rendered are dropped."""
    details = []
    for detail in status.details:
        try:
            details.append(json_format.MessageToDict(detail, descriptor_pool=pool))
        except (json_format.Error, TypeError, KeyError):
            continue
    return {"code": status.code, "message": status.message, "details": details}


def retry_after(status: status_pb2.Status) -> str | None:
    """RetryInfo's delay as a Retry-After value (whole seconds, rounded up)."""
    for detail in status.details:
        info = error_details_pb2.RetryInfo()
        if detail.Unpack(info):
            return str(max(1, math.ceil(info.retry_delay.ToNanoseconds() / 1e9)))
    return None
