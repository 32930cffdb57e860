"""CatalogService's REST/JSON baseline: JSON ↔ catalog domain, nothing else.

``GET /v1/products/{sku}``, ``GET /v1/products?category=&limit=&afterSku=`` (a page;
the gRPC side streams the whole list) and ``POST /v1/products/lookup`` (the batch a
REST team adds once callers fetch many products at a time).
"""

from __future__ import annotations

from typing import Any

from meshkit.runtime.rest.request import RestRequest
from meshkit.runtime.rest.router import Route
from services.catalog.domain import Catalog, Product
from services.kernel.convert import money_json

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def product_json(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "category": product.category,
        "listPrice": money_json(product.list_price),
        "active": product.active,
    }


class CatalogResource:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        # Products never change while the process runs, so each document is built once
        # (as the gRPC servicer builds each reply once).
        self._documents: dict[str, dict[str, Any]] = {}

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v1/products/{sku}", self.get_product),
            Route("GET", "/v1/products", self.list_products),
            Route("POST", "/v1/products/lookup", self.lookup_products),
        ]

    def _document(self, product: Product) -> dict[str, Any]:
        document = self._documents.get(product.sku)
        if document is None:
            document = self._documents[product.sku] = product_json(product)
        return document

    async def get_product(self, request: RestRequest) -> dict[str, Any]:
        return self._document(self._catalog.get(request.params["sku"]))

    async def list_products(self, request: RestRequest) -> dict[str, Any]:
        query = request.query()
        category = query.string("category")
        limit = min(query.integer("limit", DEFAULT_PAGE) or DEFAULT_PAGE, MAX_PAGE)
        after_sku = query.string("afterSku")
        query.done()
        products = [self._document(p) for p in self._catalog.list(category, limit, after_sku)]
        page: dict[str, Any] = {"products": products}
        if len(products) == limit:
            page["nextAfterSku"] = products[-1]["sku"]
        return page

    async def lookup_products(self, request: RestRequest) -> dict[str, Any]:
        body = request.json()
        skus = body.strings("skus")
        body.done()
        found, missing = self._catalog.batch_get(skus)
        return {"products": [self._document(p) for p in found], "missingSkus": missing}
