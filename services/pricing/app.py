"""Wiring: the pricing service's parts for the shared service host."""

from __future__ import annotations

from shopmesh.pricing.v1 import pricing_pb2_grpc

from meshkit.runtime.channels import Channels
from meshkit.runtime.rest.host import RestBuild, RestParts
from meshkit.runtime.server import BuildParts, Registration, ServiceParts
from services.pricing.domain import Pricer
from services.pricing.rest import PricingResource
from services.pricing.servicer import SERVICE_NAME, PricingServicer


def build(product_count: int) -> BuildParts:
    def parts(channels: Channels) -> ServiceParts:
        servicer = PricingServicer(Pricer.seeded(product_count))
        add = pricing_pb2_grpc.add_PricingServiceServicer_to_server
        return ServiceParts(registrations=[Registration(servicer, add, SERVICE_NAME)])

    return parts


def build_rest(product_count: int) -> RestBuild:
    def parts(clients: object) -> RestParts:
        return RestParts(routes=PricingResource(Pricer.seeded(product_count)).routes())

    return parts
