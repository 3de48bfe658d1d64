"""Catalog HTTP routes: public reads, admin-only writes (`CatalogWriter`)."""

from typing import Annotated

from fastapi import APIRouter, Query

from apiforge.kit.inputs import PathId
from apiforge.kit.openapi import problem_responses
from apiforge.kit.pagination import Page
from apiforge.shop.catalog.dependencies import Catalog
from apiforge.shop.catalog.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    ProductCreate,
    ProductDetail,
    ProductListQuery,
    ProductRead,
    ProductSearchQuery,
    ProductUpdate,
)
from apiforge.shop.permissions import CatalogWriter

router = APIRouter(prefix="/api", tags=["catalog"])
ADMIN = (401, 403, 422)


@router.get("/categories")
async def list_categories(catalog: Catalog) -> list[CategoryRead]:
    """All categories, by name."""
    return await catalog.list_categories()


@router.post("/categories", status_code=201, responses=problem_responses(*ADMIN, 409))
async def create_category(
    data: CategoryCreate, catalog: Catalog, _admin: CatalogWriter
) -> CategoryRead:
    """409 `catalog.category_exists` when the name is taken."""
    return await catalog.create_category(data)


@router.patch("/categories/{category_id}", responses=problem_responses(*ADMIN, 404, 409))
async def update_category(
    category_id: PathId, data: CategoryUpdate, catalog: Catalog, _admin: CatalogWriter
) -> CategoryRead:
    return await catalog.update_category(category_id, data)


@router.delete(
    "/categories/{category_id}", status_code=204, responses=problem_responses(*ADMIN, 404, 409)
)
async def delete_category(category_id: PathId, catalog: Catalog, _admin: CatalogWriter) -> None:
    """409 `catalog.category_in_use` while any product (archived ones too) is in it."""
    await catalog.delete_category(category_id)


@router.get("/products", responses=problem_responses(422))
async def list_products(
    query: Annotated[ProductListQuery, Query()], catalog: Catalog
) -> Page[ProductRead]:
    """Live products, keyset-paginated: pass `next_cursor` back as `cursor` with the same
    `sort`. A cursor from another sort order is a 422 `request.invalid_cursor`."""
    return await catalog.list_products(query)


# Declared before /products/{product_id}, which would otherwise take "search" for an id.
@router.get("/products/search", responses=problem_responses(422))
async def search_products(
    query: Annotated[ProductSearchQuery, Query()], catalog: Catalog
) -> Page[ProductRead]:
    """Live products whose name or description contains `q` (case-insensitive), by id."""
    return await catalog.search_products(query)


@router.get("/products/{product_id}", responses=problem_responses(404, 422))
async def get_product(product_id: PathId, catalog: Catalog) -> ProductDetail:
    return await catalog.get_product(product_id)


@router.post("/products", status_code=201, responses=problem_responses(*ADMIN))
async def create_product(
    data: ProductCreate, catalog: Catalog, _admin: CatalogWriter
) -> ProductRead:
    """422 `catalog.category_not_found` when `category_id` names no category."""
    return await catalog.create_product(data)


@router.patch("/products/{product_id}", responses=problem_responses(*ADMIN, 404))
async def update_product(
    product_id: PathId, data: ProductUpdate, catalog: Catalog, _admin: CatalogWriter
) -> ProductRead:
    """Changes only the fields sent. 422 `catalog.category_not_found` for an unknown category."""
    return await catalog.update_product(product_id, data)


@router.delete("/products/{product_id}", status_code=204, responses=problem_responses(*ADMIN, 404))
async def delete_product(product_id: PathId, catalog: Catalog, _admin: CatalogWriter) -> None:
    """Deletes the product, or archives it when orders refer to it (hidden from the catalog,
    kept for those orders)."""
    await catalog.delete_product(product_id)
