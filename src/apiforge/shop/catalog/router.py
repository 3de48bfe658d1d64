"""Catalog HTTP routes: public reads, admin-only writes (`CatalogWriter`)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import TypeAdapter

from apiforge.kit import Page, PathId, problem_responses, rate_limit
from apiforge.shop.catalog.bulk.service import MEDIA_TYPES
from apiforge.shop.catalog.dependencies import CachedCatalogReads, CatalogWrites, Exporter, Importer
from apiforge.shop.catalog.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    ExportQuery,
    ImportResult,
    ProductCreate,
    ProductDetail,
    ProductListQuery,
    ProductRead,
    ProductSearchQuery,
    ProductUpdate,
)
from apiforge.shop.permissions import CatalogWriter
from apiforge.shop.ratelimits import CATALOG, REQUESTS, WRITES

router = APIRouter(prefix="/api", tags=["catalog"])
# Built once: the cached reads render their bytes with pydantic's serializer directly.
_CATEGORIES = TypeAdapter(list[CategoryRead])
_PRODUCT_PAGE = TypeAdapter(Page[ProductRead])
# What every admin-only route may answer besides its own errors.
ADMIN_ERRORS = (401, 403, 422)
IMPORT_ROUTE = "/admin/products/import"
# The path `create_shop_app` grants the import's larger body limit (catalog.import_max_bytes).
IMPORT_PATH = router.prefix + IMPORT_ROUTE
_PRODUCT = {"$ref": "#/components/schemas/ProductCreate"}
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": _PRODUCT}},
            # Each line is one product object.
            "application/x-ndjson": {"schema": _PRODUCT},
        },
    }
}
EXPORT_RESPONSES = {
    200: {
        "description": "The live products by id, streamed.",
        "content": {media: {"schema": {"type": "string"}} for media in MEDIA_TYPES.values()},
    },
    **problem_responses(401, 403, 422),
}


@router.get("/categories", response_model=list[CategoryRead], responses=problem_responses(304))
async def list_categories(reads: CachedCatalogReads) -> Response:
    """All categories, by name."""
    return await reads.respond("categories", lambda c: c.list_categories(), _CATEGORIES)


@router.post(
    "/categories",
    status_code=201,
    responses=problem_responses(*ADMIN_ERRORS, 409),
    dependencies=[rate_limit(WRITES)],
)
async def create_category(
    data: CategoryCreate, catalog: CatalogWrites, _admin: CatalogWriter
) -> CategoryRead:
    """409 `catalog.category_exists` when the name is taken."""
    return await catalog.create_category(data)


@router.patch(
    "/categories/{category_id}",
    responses=problem_responses(*ADMIN_ERRORS, 404, 409),
    dependencies=[rate_limit(WRITES)],
)
async def update_category(
    category_id: PathId, data: CategoryUpdate, catalog: CatalogWrites, _admin: CatalogWriter
) -> CategoryRead:
    return await catalog.update_category(category_id, data)


@router.delete(
    "/categories/{category_id}",
    status_code=204,
    responses=problem_responses(*ADMIN_ERRORS, 404, 409),
    dependencies=[rate_limit(WRITES)],
)
async def delete_category(
    category_id: PathId, catalog: CatalogWrites, _admin: CatalogWriter
) -> None:
    """409 `catalog.category_in_use` while any product (archived ones too) is in it."""
    await catalog.delete_category(category_id)


@router.get("/products", response_model=Page[ProductRead], responses=problem_responses(304, 422))
async def list_products(
    query: Annotated[ProductListQuery, Query()], reads: CachedCatalogReads
) -> Response:
    """Live products, keyset-paginated: pass `next_cursor` back as `cursor` with the same
    `sort`. A cursor from another sort order is a 422 `request.invalid_cursor`."""
    key = f"products:{query.model_dump_json()}"
    return await reads.respond_rendered(key, lambda c: c.products_json(query))


# Declared before /products/{product_id}, which would otherwise take "search" for an id.
@router.get(
    "/products/search",
    response_model=Page[ProductRead],
    responses=problem_responses(304, 422),
    dependencies=[rate_limit(CATALOG)],
)
async def search_products(
    query: Annotated[ProductSearchQuery, Query()], reads: CachedCatalogReads
) -> Response:
    """Live products whose name or description contains `q` (case-insensitive), by id."""
    key = f"search:{query.model_dump_json()}"
    return await reads.respond(key, lambda c: c.search_products(query), _PRODUCT_PAGE)


@router.get(
    "/products/{product_id}",
    response_model=ProductDetail,
    responses=problem_responses(304, 404, 422),
)
async def get_product(product_id: PathId, reads: CachedCatalogReads) -> Response:
    return await reads.respond_rendered(
        f"product:{product_id}", lambda c: c.product_json(product_id)
    )


@router.post(
    "/products",
    status_code=201,
    responses=problem_responses(*ADMIN_ERRORS),
    dependencies=[rate_limit(WRITES)],
)
async def create_product(
    data: ProductCreate, catalog: CatalogWrites, _admin: CatalogWriter
) -> ProductRead:
    """422 `catalog.category_not_found` when `category_id` names no category."""
    return await catalog.create_product(data)


@router.patch(
    "/products/{product_id}",
    responses=problem_responses(*ADMIN_ERRORS, 404),
    dependencies=[rate_limit(WRITES)],
)
async def update_product(
    product_id: PathId, data: ProductUpdate, catalog: CatalogWrites, _admin: CatalogWriter
) -> ProductRead:
    """Changes only the fields sent. 422 `catalog.category_not_found` for an unknown category."""
    return await catalog.update_product(product_id, data)


@router.delete(
    "/products/{product_id}",
    status_code=204,
    responses=problem_responses(*ADMIN_ERRORS, 404),
    dependencies=[rate_limit(WRITES)],
)
async def delete_product(product_id: PathId, catalog: CatalogWrites, _admin: CatalogWriter) -> None:
    """Deletes the product, or archives it when orders refer to it (hidden from the catalog,
    kept for those orders)."""
    await catalog.delete_product(product_id)


@router.post(
    IMPORT_ROUTE,
    status_code=201,
    responses=problem_responses(*ADMIN_ERRORS, 413, 415),
    openapi_extra=IMPORT_BODY,
    dependencies=[rate_limit(WRITES)],
)
async def import_products(
    request: Request, importer: Importer, _admin: CatalogWriter
) -> ImportResult:
    """Creates products from a JSON array or NDJSON (one object per line), at most
    100,000 rows, all or nothing: any invalid row (422 `catalog.import_invalid`) or unknown
    category (422 `catalog.category_not_found`) writes nothing, and `errors` names each `line`
    (array position or NDJSON line, from 1). 415 for other content types."""
    return await importer.run(request.headers.get("content-type", ""), request.stream())


@router.get(
    "/admin/products/export",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
    dependencies=[rate_limit(REQUESTS)],
)
async def export_products(
    query: Annotated[ExportQuery, Query()], exporter: Exporter, _admin: CatalogWriter
) -> StreamingResponse:
    """Every live product, streamed as NDJSON (`ProductRead` objects) or CSV with a header."""
    return StreamingResponse(
        exporter.stream(query.format),
        media_type=MEDIA_TYPES[query.format],
        headers={"Content-Disposition": f'attachment; filename="products.{query.format}"'},
    )
