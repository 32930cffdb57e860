"""CatalogService over gRPC: protobuf ↔ catalog domain, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from shopmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc

from services.catalog.domain import Catalog, Product
from services.kernel.convert import money_to_pb

SERVICE_NAME: str = catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name


def product_to_pb(product: Product) -> catalog_pb2.Product:
    return catalog_pb2.Product(
        sku=product.sku,
        name=product.name,
        description=product.description,
        category=product.category,
        list_price=money_to_pb(product.list_price),
        active=product.active,
    )


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        # Products never change while the process runs, so each reply is built once.
        self._replies: dict[str, catalog_pb2.GetProductResponse] = {}

    async def GetProduct(  # noqa: N802 - gRPC method name
        self, request: catalog_pb2.GetProductRequest, context: Any
    ) -> catalog_pb2.GetProductResponse:
        reply = self._replies.get(request.sku)
        if reply is None:
            product = self._catalog.get(request.sku)
            reply = catalog_pb2.GetProductResponse(product=product_to_pb(product))
            self._replies[product.sku] = reply
        return reply

    async def ListProducts(  # noqa: N802
        self, request: catalog_pb2.ListProductsRequest, context: Any
    ) -> AsyncIterator[catalog_pb2.ListProductsResponse]:
        products = self._catalog.list(request.category, request.limit, request.after_sku)
        for product in products:
            yield catalog_pb2.ListProductsResponse(product=product_to_pb(product))

    async def BatchGetProducts(  # noqa: N802
        self, request: catalog_pb2.BatchGetProductsRequest, context: Any
    ) -> catalog_pb2.BatchGetProductsResponse:
        found, missing = self._catalog.batch_get(list(request.skus))
        return catalog_pb2.BatchGetProductsResponse(
            products=[product_to_pb(p) for p in found], missing_skus=missing
        )
