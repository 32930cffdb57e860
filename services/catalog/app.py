"""Wiring: the catalog's parts for the shared service host, over gRPC or REST."""

from __future__ import annotations

from shopmesh.catalog.v1 import catalog_pb2_grpc

from meshkit.runtime.channels import Channels
from meshkit.runtime.rest.host import RestBuild, RestParts
from meshkit.runtime.server import BuildParts, Registration, ServiceParts
from services.catalog.domain import Catalog
from services.catalog.rest import CatalogResource
from services.catalog.servicer import SERVICE_NAME, CatalogServicer


def build(product_count: int) -> BuildParts:
    def parts(channels: Channels) -> ServiceParts:
        servicer = CatalogServicer(Catalog.seeded(product_count))
        return ServiceParts(
            registrations=[
                Registration(
                    servicer, catalog_pb2_grpc.add_CatalogServiceServicer_to_server, SERVICE_NAME
                )
            ]
        )

    return parts


def build_rest(product_count: int) -> RestBuild:
    def parts(clients: object) -> RestParts:
        return RestParts(routes=CatalogResource(Catalog.seeded(product_count)).routes())

    return parts
