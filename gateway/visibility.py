"""Which RPCs the edge routes: the contract's ``shopmesh.api.v1.visibility`` method option.

A google.api.http rule says what an RPC looks like as REST; its visibility says whether
the edge routes it at all (protos/shopmesh/api/v1/visibility.proto):

- ``PUBLIC``: routed by default;
- ``ADMIN``: routed only when the deployment turns admin routes on, and then only for
  callers with an API key (``gateway.admin``);
- ``INTERNAL``: never routed. So is an RPC without the option, with
  ``VISIBILITY_UNSPECIFIED`` or with a value this gateway does not know: default closed.

The option is read from the descriptor pool by its full name, like every other contract
fact the gateway uses, so it works for a descriptor set of any language's services; a
set without visibility.proto routes nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from google.protobuf import descriptor, descriptor_pool, message, message_factory

if TYPE_CHECKING:
    from google.protobuf.internal.extension_dict import _ExtensionFieldDescriptor

VISIBILITY_OPTION = "shopmesh.api.v1.visibility"
"""Full name of the method option (an extension of google.protobuf.MethodOptions)."""
_METHOD_OPTIONS = "google.protobuf.MethodOptions"

DeclaredOf = Callable[[descriptor.MethodDescriptor], str | None]
"""A method → the option's value name as written in the contract, or None."""


class Visibility(enum.Enum):
    """Where an RPC is reachable from outside the mesh; values are the contract's names."""

    PUBLIC = "VISIBILITY_PUBLIC"
    ADMIN = "VISIBILITY_ADMIN"
    INTERNAL = "VISIBILITY_INTERNAL"


PUBLIC_SURFACE = frozenset({Visibility.PUBLIC})
"""What the gateway routes by default."""
ADMIN_SURFACE = frozenset({Visibility.PUBLIC, Visibility.ADMIN})
"""What it routes with admin routes on (``GATEWAY_ADMIN_ROUTES``)."""
WHOLE_CONTRACT = frozenset(Visibility)
"""Every annotated RPC: for tools and tests that inspect the contract, never for serving."""

VisibilityOf = Callable[[descriptor.MethodDescriptor], Visibility]


def edge_surface(admin_routes: bool) -> frozenset[Visibility]:
    """The visibilities the gateway routes: public ones, plus admin ones when enabled."""
    return ADMIN_SURFACE if admin_routes else PUBLIC_SURFACE


def declared_visibilities(pool: descriptor_pool.DescriptorPool) -> DeclaredOf:
    """A reader of the option's value as written in the contract (``"VISIBILITY_ADMIN"``),
    or None when a method does not set it (or the pool lacks the option altogether)."""
    try:
        found = pool.FindExtensionByName(VISIBILITY_OPTION)
    except KeyError:
        return lambda method: None
    extended, values = found.containing_type, found.enum_type
    if extended is None or extended.full_name != _METHOD_OPTIONS or values is None:
        raise ValueError(f"{VISIBILITY_OPTION} is not an enum option of {_METHOD_OPTIONS}")
    # The option lives in this pool, not in the generated descriptor_pb2, so the options
    # are parsed with this pool's own MethodOptions class, which knows the extension.
    options_class = message_factory.GetMessageClass(extended)
    option = cast("_ExtensionFieldDescriptor[message.Message, int]", found)
    names = {value.number: value.name for value in values.values}

    def declared(method: descriptor.MethodDescriptor) -> str | None:
        options = options_class.FromString(method.GetOptions().SerializeToString())
        if not options.HasExtension(option):
            return None
        return names.get(options.Extensions[option])

    return declared


def visibilities(pool: descriptor_pool.DescriptorPool) -> VisibilityOf:
    """A reader of each method's Visibility; anything but PUBLIC or ADMIN is INTERNAL."""
    declared = declared_visibilities(pool)
    by_name = {visibility.value: visibility for visibility in Visibility}

    def visibility_of(method: descriptor.MethodDescriptor) -> Visibility:
        return by_name.get(declared(method) or "", Visibility.INTERNAL)

    return visibility_of
