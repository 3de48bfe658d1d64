"""FastAPI wiring for the catalog: the request's `CatalogService`."""

from typing import Annotated

from fastapi import Depends

from apiforge.kit.db.session import DbSession
from apiforge.shop.catalog.service import CatalogService


async def catalog_service(session: DbSession) -> CatalogService:
    return CatalogService(session)


Catalog = Annotated[CatalogService, Depends(catalog_service)]
