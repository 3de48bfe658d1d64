"""FastAPI wiring for the catalog: the request's `CatalogService` for admin writes;
`CatalogReads`, which answers the public reads from the cache as rendered bytes with an ETag;
and the bulk importer (on the request's unit of work) and exporter (on a read session of its
own)."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import TypeAdapter

from apiforge.kit import (
    FrontCache,
    RenderedJson,
    WriteSession,
    app_state,
    cached_json,
    front_cache_entry,
    private_no_store,
    public_max_age,
)
from apiforge.shop.catalog.bulk.service import ProductExporter, ProductImporter
from apiforge.shop.catalog.service import CATALOG_TAG, CatalogService
from apiforge.shop.settings import CatalogSettings, shop_settings

CATALOG_TAGS = (CATALOG_TAG,)
# The public catalog reads, served before routing when cached (the kit's front cache).
CATALOG_PREFIXES = ("/api/products", "/api/categories")


def catalog_front_cache(settings: CatalogSettings) -> FrontCache:
    return FrontCache(
        prefixes=CATALOG_PREFIXES,
        public_cache_control=public_max_age(settings.client_max_age_seconds),
    )


async def catalog_service(request: Request, session: WriteSession) -> CatalogService:
    return CatalogService(
        session,
        cache=app_state(request.app).cache,
        low_stock_threshold=shop_settings(request.app).catalog.low_stock_threshold,
    )


CatalogWrites = Annotated[CatalogService, Depends(catalog_service)]


class CatalogReads:
    """Answers a catalog read from the cache: a hit costs no database session, no validation
    and no serialisation. On a miss the read runs in its own short read session."""

    def __init__(self, request: Request) -> None:
        state = app_state(request.app)
        settings = shop_settings(request.app)
        catalog = settings.catalog
        self._cache = state.cache
        self._database = state.database
        self._ttl = catalog.cache_ttl_seconds
        self._jitter = settings.cache.ttl_jitter
        self._if_none_match = request.headers.get("if-none-match")
        # The bytes are the same for everybody; only who may keep them differs.
        self._cache_control = (
            private_no_store()
            if "authorization" in request.headers
            else public_max_age(catalog.client_max_age_seconds)
        )

    async def respond(
        self,
        key: str,
        read: Callable[[CatalogService], Awaitable[Any]],
        adapter: TypeAdapter[Any],
    ) -> Response:
        """The answer of `read` for the cache entry `key`, rendered by `adapter`."""

        async def render(catalog: CatalogService) -> bytes:
            return adapter.dump_json(await read(catalog))

        return await self.respond_rendered(key, render)

    async def respond_rendered(
        self, key: str, render: Callable[[CatalogService], Awaitable[bytes]]
    ) -> Response:
        """The bytes `render` makes for the cache entry `key` (a read that renders itself)."""

        async def load() -> bytes:
            async with self._database.read_session() as session:
                return await render(CatalogService(session))

        if self._cache is None:
            rendered = RenderedJson.of(await load())
            return rendered.response(
                if_none_match=self._if_none_match, cache_control=self._cache_control
            )
        cache_key = f"catalog:{key}"
        rendered = await cached_json(
            self._cache, cache_key, load, ttl=self._ttl, tags=CATALOG_TAGS, jitter=self._jitter
        )
        return rendered.response(
            if_none_match=self._if_none_match,
            cache_control=self._cache_control,
            front_cache=front_cache_entry(cache_key, CATALOG_TAGS),
        )


async def catalog_reads(request: Request) -> CatalogReads:
    # An async factory, not `Depends(CatalogReads)`: FastAPI runs a class (a sync callable)
    # in the thread pool, and that hop cost more than the whole cache hit.
    return CatalogReads(request)


CachedCatalogReads = Annotated[CatalogReads, Depends(catalog_reads)]


async def product_importer(request: Request, session: WriteSession) -> ProductImporter:
    return ProductImporter(session, cache=app_state(request.app).cache)


async def product_exporter(request: Request) -> ProductExporter:
    # Not the request's session: that one commits and closes before the body is streamed.
    return ProductExporter(app_state(request.app).database)


Importer = Annotated[ProductImporter, Depends(product_importer)]
Exporter = Annotated[ProductExporter, Depends(product_exporter)]
