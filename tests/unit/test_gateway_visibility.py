"""The contract's visibility option: every RPC declares one, and the decided surface holds."""

from __future__ import annotations

from google.protobuf import descriptor, descriptor_pb2

from gateway.descriptors import DEFAULT_DESCRIPTORS, load_pool
from gateway.visibility import Visibility, declared_visibilities, edge_surface, visibilities

DECIDED = {
    "VISIBILITY_PUBLIC": {
        "shopmesh.catalog.v1.CatalogService.GetProduct",
        "shopmesh.catalog.v1.CatalogService.ListProducts",
        "shopmesh.catalog.v1.CatalogService.BatchGetProducts",
        "shopmesh.pricing.v1.PricingService.Quote",
        "shopmesh.pricing.v1.PricingService.QuoteStream",
        "shopmesh.inventory.v1.InventoryService.GetStock",
        "shopmesh.orders.v1.OrdersService.PlaceOrder",
        "shopmesh.orders.v1.OrdersService.GetOrder",
    },
    "VISIBILITY_ADMIN": {
        "shopmesh.orders.v1.OrdersService.CancelOrder",
        "shopmesh.orders.v1.OrdersService.WatchOrders",
        "shopmesh.inventory.v1.InventoryService.Restock",
        "shopmesh.inventory.v1.InventoryService.GetReservation",
        "shopmesh.payments.v1.PaymentsService.Refund",
        "shopmesh.payments.v1.PaymentsService.GetCharge",
    },
    "VISIBILITY_INTERNAL": {
        "shopmesh.inventory.v1.InventoryService.Reserve",
        "shopmesh.inventory.v1.InventoryService.Release",
        "shopmesh.inventory.v1.InventoryService.BatchReserve",
        "shopmesh.inventory.v1.InventoryService.ReserveStream",
        "shopmesh.payments.v1.PaymentsService.Charge",
    },
}
"""The public surface decided in issue 11 (item 5). Changing it is changing this table."""


def _our_methods() -> list[descriptor.MethodDescriptor]:
    """Every RPC of every service in protos/, as gen/descriptors.binpb holds them."""
    pool = load_pool(DEFAULT_DESCRIPTORS)
    files = descriptor_pb2.FileDescriptorSet.FromString(DEFAULT_DESCRIPTORS.read_bytes()).file
    return [
        method
        for file in files
        if file.name.startswith("shopmesh/")
        for service in pool.FindFileByName(file.name).services_by_name.values()
        for method in service.methods
    ]


def test_every_rpc_declares_its_visibility() -> None:
    """No RPC in protos/ leaves its visibility unset or UNSPECIFIED: exposing an RPC at the
    edge, or not, is a decision written next to it."""
    methods = _our_methods()
    declared = declared_visibilities(methods[0].containing_service.file.pool)
    undecided = [m.full_name for m in methods if declared(m) in (None, "VISIBILITY_UNSPECIFIED")]
    assert undecided == [], "add option (shopmesh.api.v1.visibility) to these RPCs"
    assert len(methods) == sum(len(names) for names in DECIDED.values())


def test_the_contract_declares_the_decided_surface() -> None:
    """Each RPC's declared visibility is the one decided for it."""
    methods = _our_methods()
    declared = declared_visibilities(methods[0].containing_service.file.pool)
    found: dict[str, set[str]] = {}
    for method in methods:
        found.setdefault(declared(method) or "unset", set()).add(method.full_name)
    assert found == DECIDED


def test_visibility_reader_maps_the_declared_values() -> None:
    """The reader the route table uses agrees with the declarations, value by value."""
    methods = _our_methods()
    visibility_of = visibilities(methods[0].containing_service.file.pool)
    for method in methods:
        expected = next(name for name, rpcs in DECIDED.items() if method.full_name in rpcs)
        assert visibility_of(method) == Visibility(expected), method.full_name


def test_edge_surface_is_public_unless_admin_routes_are_on() -> None:
    """Internal RPCs are in neither surface."""
    assert edge_surface(False) == {Visibility.PUBLIC}
    assert edge_surface(True) == {Visibility.PUBLIC, Visibility.ADMIN}
