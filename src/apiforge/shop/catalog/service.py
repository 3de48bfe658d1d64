"""Catalog rules. Other domains reach the catalog only through this service."""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    CacheBackend,
    InvalidCursorError,
    Page,
    after_commit,
    decode_cursor,
    encode_cursor,
    format_minor,
)
from apiforge.shop.catalog.errors import (
    CategoryInUseError,
    CategoryNotFoundError,
    ProductNotFoundError,
    StockAdjustmentError,
)
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.catalog.repository import CategoryRepository, ProductRepository
from apiforge.shop.catalog.schemas import (
    DEFAULT_LOW_STOCK_THRESHOLD,
    CategoryCreate,
    CategoryRead,
    CategoryRef,
    CategoryUpdate,
    LowStockProduct,
    ProductCreate,
    ProductDetail,
    ProductListQuery,
    ProductRead,
    ProductSearchQuery,
    ProductSort,
    ProductUpdate,
    StockLine,
)
from apiforge.shop.events.schemas import PRODUCT, PRODUCT_PRICE_CHANGED, PriceChangedData
from apiforge.shop.events.service import EventLog, StockChange

SEARCH_CURSOR = "products:search"
_PRODUCT_DETAIL = TypeAdapter(ProductDetail)
_PRODUCT_PAGE = TypeAdapter(Page[ProductRead])
# A cursor holds [kind, sort key, id]; the kind names the sort, so a cursor from another sort
# order is refused instead of silently starting somewhere odd.
CURSOR_TYPES: dict[ProductSort, tuple[type, ...]] = {
    ProductSort.ID: (int, int),
    ProductSort.PRICE: (int, int),
    ProductSort.PRICE_DESC: (int, int),
    ProductSort.NAME: (str, int),
    ProductSort.NEWEST: (str, int),
}
SORT_KEYS: dict[ProductSort, Callable[[ProductRead], object]] = {
    ProductSort.ID: lambda item: item.id,
    ProductSort.PRICE: lambda item: item.price,
    ProductSort.PRICE_DESC: lambda item: item.price,
    ProductSort.NAME: lambda item: item.name,
    ProductSort.NEWEST: lambda item: item.created_at.isoformat(),
}
# Wire names that differ from the column (money travels as `price`, is stored in minor units).
WIRE_TO_COLUMN = {"price": "price_minor"}


def _cursor_kind(sort: ProductSort) -> str:
    return f"products:{sort.value}"


def _decode_after(query: ProductListQuery) -> tuple[Any, int] | None:
    """The (sort key, id) a cursor resumes after. The key goes into SQL, so a tampered one
    must be a 422 here, not a database error later (PostgreSQL refuses NUL in text)."""
    if not query.cursor:
        return None
    key, last_id = decode_cursor(query.cursor, _cursor_kind(query.sort), CURSOR_TYPES[query.sort])
    if isinstance(key, str) and "\x00" in key:
        raise InvalidCursorError
    if query.sort is ProductSort.NEWEST:
        try:
            key = datetime.fromisoformat(key)
        except ValueError as exc:
            raise InvalidCursorError from exc
        if key.tzinfo is None:
            raise InvalidCursorError
    return key, last_id


def _unfiltered_by_id(query: ProductListQuery) -> bool:
    filters = (query.category_id, query.min_price, query.max_price, query.in_stock)
    return query.sort is ProductSort.ID and all(value is None for value in filters)


def _page(
    rows: Sequence[RowMapping], limit: int, cursor_after: Callable[[ProductRead], str]
) -> Page[ProductRead]:
    # model_construct: the rows come from our own database, already typed by the columns;
    # validating them again would only cost CPU on the hottest path.
    items = [ProductRead.model_construct(**row) for row in rows[:limit]]
    next_cursor = cursor_after(items[-1]) if len(rows) > limit else None
    return Page[ProductRead](items=items, next_cursor=next_cursor)


def _changes(update: BaseModel, renames: Mapping[str, str] | None = None) -> dict[str, object]:
    """The fields a PATCH body actually sent, under their column names. Not `model_dump`: it
    would serialize money back into a string."""
    renames = renames or {}
    return {renames.get(name, name): getattr(update, name) for name in update.model_fields_set}


def _category_read(category: Category) -> CategoryRead:
    return CategoryRead.model_construct(
        id=category.id, name=category.name, description=category.description
    )


def _product_read(product: Product) -> ProductRead:
    return ProductRead.model_construct(
        id=product.id,
        name=product.name,
        description=product.description,
        price=product.price_minor,
        stock=product.stock,
        category_id=product.category_id,
        created_at=product.created_at,
    )


# Every cached catalog read carries this tag; any committed catalog write invalidates it.
CATALOG_TAG = "catalog"


class CatalogService:
    """`low_stock_threshold`: a change taking a product's stock from above it to at or below it
    records `stock.low`."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        cache: CacheBackend | None = None,
        low_stock_threshold: int = DEFAULT_LOW_STOCK_THRESHOLD,
    ) -> None:
        self.session = session
        self.cache = cache
        self.low_stock_threshold = low_stock_threshold
        self.products = ProductRepository(session)
        self.categories = CategoryRepository(session)
        self.events = EventLog(session)

    def _catalog_changed(self) -> None:
        """Cached catalog reads are dropped in every worker once this write has committed
        (a rollback drops the callback). Stock taken by orders does not come here: cached
        stock figures age out with `CATALOG_TTL_SECONDS` instead."""
        cache = self.cache
        if cache is not None:
            after_commit(self.session, lambda: cache.invalidate_tags(CATALOG_TAG))

    # -- stock, for the orders domain

    async def lock_for_order(self, product_ids: Sequence[int]) -> dict[int, StockLine]:
        """Live products among `product_ids`, locked until the transaction ends."""
        return await self.products.lock_stock(product_ids)

    async def take_for_order(self, quantities: Mapping[int, int]) -> dict[int, StockLine]:
        """Lock the live products among `quantities` (in id order, until the transaction ends)
        and take the quantities if every one is there with enough stock; the locked lines as
        they were before. A refusal takes nothing: the caller tells which product failed from
        the lines (missing, or short)."""
        locked, taken = await self.products.lock_and_take(quantities)
        if taken:
            changes = [
                StockChange(pid, locked[pid].name, locked[pid].stock, locked[pid].stock - quantity)
                for pid, quantity in sorted(quantities.items())
            ]
            await self.events.stock_changed(changes, self.low_stock_threshold)
        return locked

    async def adjust_stock(
        self, product_id: int, *, delta: int | None, absolute: int | None
    ) -> int:
        """Apply a stock adjustment (the warehouse feed): add `delta`, or set `absolute`;
        the new stock. Raises `ProductNotFoundError` for an unknown or archived product and
        `StockAdjustmentError` when the result would be negative."""
        locked = await self.products.lock_stock([product_id])
        if product_id not in locked:
            raise ProductNotFoundError(product_id)
        line = locked[product_id]
        after = absolute if absolute is not None else line.stock + (delta or 0)
        if after < 0:
            raise StockAdjustmentError(product_id, line.stock, after)
        await self.products.adjust_stock({product_id: after - line.stock})
        change = StockChange(product_id, line.name, line.stock, after)
        await self.events.stock_changed([change], self.low_stock_threshold)
        return after

    async def return_stock(self, quantities: Mapping[int, int]) -> None:
        await self.products.adjust_stock(dict(quantities))

    # -- reads: one statement each

    async def list_categories(self) -> list[CategoryRead]:
        rows = await self.categories.list_all()
        return [CategoryRead.model_construct(**row) for row in rows]

    async def list_products(self, query: ProductListQuery) -> Page[ProductRead]:
        rows = await self.products.list_page(query, _decode_after(query))
        kind, key = _cursor_kind(query.sort), SORT_KEYS[query.sort]
        return _page(rows, query.limit, lambda last: encode_cursor(kind, key(last), last.id))

    async def products_json(self, query: ProductListQuery) -> bytes:
        """`list_products` rendered: by PostgreSQL for the unfiltered listing by id (the front
        page and its next ones), else by pydantic."""
        plain = (
            query.model_fields_set <= {"limit", "cursor", "sort"} and query.sort is ProductSort.ID
        )
        if not (plain and self.products.renders_json):
            return _PRODUCT_PAGE.dump_json(await self.list_products(query))
        after = _decode_after(query)
        items, last_id, more = await self.products.id_page_json(
            0 if after is None else after[1], query.limit
        )
        cursor = encode_cursor(_cursor_kind(query.sort), last_id, last_id) if more else None
        return b'{"items":' + items.encode() + b',"next_cursor":' + orjson.dumps(cursor) + b"}"

    async def search_products(self, query: ProductSearchQuery) -> Page[ProductRead]:
        after_id = None
        if query.cursor:
            (after_id,) = decode_cursor(query.cursor, SEARCH_CURSOR, (int,))
        rows = await self.products.search(query.q, query.limit, after_id)
        return _page(rows, query.limit, lambda last: encode_cursor(SEARCH_CURSOR, last.id))

    async def product_json(self, product_id: int) -> bytes:
        """`get_product` rendered: by PostgreSQL where it can, else by pydantic (SQLite)."""
        if not self.products.renders_json:
            return _PRODUCT_DETAIL.dump_json(await self.get_product(product_id))
        text = await self.products.get_detail_json(product_id)
        if text is None:
            raise ProductNotFoundError(product_id)
        return text.encode()

    async def get_product(self, product_id: int) -> ProductDetail:
        row = await self.products.get_detail(product_id)
        if row is None:
            raise ProductNotFoundError(product_id)
        values = dict(row)
        category = CategoryRef.model_construct(
            id=row["category_id"], name=values.pop("category_name")
        )
        return ProductDetail.model_construct(**values, category=category)

    # -- the dashboard's reads

    async def low_stock(self, threshold: int, limit: int) -> list[LowStockProduct]:
        rows = await self.products.low_stock(threshold, limit)
        return [LowStockProduct.model_construct(**row) for row in rows]

    # -- admin writes (cold paths: the ORM is fine here)

    async def create_category(self, data: CategoryCreate) -> CategoryRead:
        self._catalog_changed()
        category = Category(name=data.name, description=data.description)
        await self.categories.save(category, {})
        return _category_read(category)

    async def update_category(self, category_id: int, data: CategoryUpdate) -> CategoryRead:
        self._catalog_changed()
        category = await self.categories.get(category_id)
        if category is None:
            raise CategoryNotFoundError(category_id)
        await self.categories.save(category, _changes(data))
        return _category_read(category)

    async def delete_category(self, category_id: int) -> None:
        self._catalog_changed()
        if await self.categories.has_products(category_id):
            raise CategoryInUseError(category_id)
        if not await self.categories.delete(category_id):
            raise CategoryNotFoundError(category_id)

    async def create_product(self, data: ProductCreate) -> ProductRead:
        self._catalog_changed()
        product = Product(
            name=data.name,
            description=data.description,
            price_minor=data.price,
            stock=data.stock,
            category_id=data.category_id,
        )
        await self.products.add(product)
        return _product_read(product)

    async def update_product(self, product_id: int, data: ProductUpdate) -> ProductRead:
        self._catalog_changed()
        product = await self.products.get_live(product_id)
        if product is None:
            raise ProductNotFoundError(product_id)
        old_price = product.price_minor
        await self.products.save(product, _changes(data, WIRE_TO_COLUMN))
        if product.price_minor != old_price:
            # After the save: its UPDATE holds the product's row lock (order per aggregate).
            changed = PriceChangedData(
                product_id=product.id,
                old_price=format_minor(old_price),
                new_price=format_minor(product.price_minor),
            )
            await self.events.record(PRODUCT_PRICE_CHANGED, PRODUCT, product.id, changed)
        return _product_read(product)

    async def delete_product(self, product_id: int) -> None:
        """Delete a product, or archive it if orders refer to it: their lines keep pointing at
        it, and it disappears from the catalog all the same."""
        self._catalog_changed()
        if not await self.products.lock_live(product_id):
            raise ProductNotFoundError(product_id)
        if not await self.products.delete_unless_referenced(product_id):
            await self.products.archive(product_id)
