"""FastAPI wiring for the catalog: the request's `CatalogService`; `CatalogReads`, which
answers the public reads from the cache as rendered bytes with an ETag; and the bulk importer
(on the request's unit of work) and exporter (on a read session of its own)."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import TypeAdapter

from apiforge.kit.cache import PRIVATE_NO_STORE, RenderedJson, cached_json, public_max_age
from apiforge.kit.cache.front import FrontCache, cache_header
from apiforge.kit.db.session import DbSession
from apiforge.kit.lifespan import app_state
from apiforge.shop.catalog.bulk.service import ProductExporter, ProductImporter
from apiforge.shop.catalog.service import CATALOG_TAG, CatalogService

# How stale a cached catalog answer may be. Admin writes invalidate at once (every worker);
# stock taken by orders is not invalidated (that would empty the cache under checkout load),
# so a stock figure is at most CATALOG_TTL_SECONDS old on the server, plus
# CLIENT_MAX_AGE_SECONDS in a client or shared cache. Orders check real stock under a lock.
CATALOG_TTL_SECONDS = 5
CLIENT_MAX_AGE_SECONDS = 5
_PUBLIC = public_max_age(CLIENT_MAX_AGE_SECONDS)
CATALOG_TAGS = (CATALOG_TAG,)
# Served before routing when cached (kit.cache.front): the public catalog reads.
CATALOG_FRONT_CACHE = FrontCache(
    prefixes=("/api/products", "/api/categories"), public_cache_control=_PUBLIC
)


async def catalog_service(request: Request, session: DbSession) -> CatalogService:
    return CatalogService(session, cache=app_state(request.app).cache)


Catalog = Annotated[CatalogService, Depends(catalog_service)]


class CatalogReads:
    """Answers a catalog read from the cache: a hit costs no database session, no validation
    and no serialisation. On a miss the read runs in its own short read-only session."""

    def __init__(self, request: Request) -> None:
        state = app_state(request.app)
        self._cache = state.cache
        self._database = state.database
        self._if_none_match = request.headers.get("if-none-match")
        # The bytes are the same for everybody; only who may keep them differs.
        self._cache_control = PRIVATE_NO_STORE if "authorization" in request.headers else _PUBLIC

    async def respond(
        self,
        key: str,
        read: Callable[[CatalogService], Awaitable[Any]],
        adapter: TypeAdapter[Any],
    ) -> Response:
        async def render() -> bytes:
            async with self._database.autocommit_session() as session:
                return adapter.dump_json(await read(CatalogService(session)))

        if self._cache is None:
            rendered = RenderedJson.of(await render())
            return rendered.response(
                if_none_match=self._if_none_match, cache_control=self._cache_control
            )
        cache_key = f"catalog:{key}"
        rendered = await cached_json(
            self._cache, cache_key, render, ttl=CATALOG_TTL_SECONDS, tags=CATALOG_TAGS
        )
        return rendered.response(
            if_none_match=self._if_none_match,
            cache_control=self._cache_control,
            front_cache=cache_header(cache_key, CATALOG_TAGS),
        )


async def catalog_reads(request: Request) -> CatalogReads:
    # An async factory, not `Depends(CatalogReads)`: FastAPI runs a class (a sync callable)
    # in the thread pool, and that hop cost more than the whole cache hit.
    return CatalogReads(request)


Reads = Annotated[CatalogReads, Depends(catalog_reads)]


async def product_importer(request: Request, session: DbSession) -> ProductImporter:
    return ProductImporter(session, cache=app_state(request.app).cache)


async def product_exporter(request: Request) -> ProductExporter:
    # Not the request's session: that one commits and closes before the body is streamed.
    return ProductExporter(app_state(request.app).database)


Importer = Annotated[ProductImporter, Depends(product_importer)]
Exporter = Annotated[ProductExporter, Depends(product_exporter)]
