"""FastAPI wiring for the catalog: the request's `CatalogService`, and the bulk importer
(on the request's unit of work) and exporter (on a read session of its own)."""

from typing import Annotated

from fastapi import Depends, Request

from apiforge.kit.db.session import DbSession
from apiforge.kit.lifespan import app_state
from apiforge.shop.catalog.bulk.service import ProductExporter, ProductImporter
from apiforge.shop.catalog.service import CatalogService


async def catalog_service(session: DbSession) -> CatalogService:
    return CatalogService(session)


Catalog = Annotated[CatalogService, Depends(catalog_service)]


async def product_importer(session: DbSession) -> ProductImporter:
    return ProductImporter(session)


async def product_exporter(request: Request) -> ProductExporter:
    # Not the request's session: that one commits and closes before the body is streamed.
    return ProductExporter(app_state(request.app).database)


Importer = Annotated[ProductImporter, Depends(product_importer)]
Exporter = Annotated[ProductExporter, Depends(product_exporter)]
