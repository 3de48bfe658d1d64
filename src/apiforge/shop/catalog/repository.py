"""All catalog SQL. Hot paths (listing, detail, search, stock) use SQLAlchemy Core: the ORM's
identity map and instance construction cost several times more CPU per request. Cold admin
writes use the ORM."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    bindparam,
    delete,
    exists,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import DriverQuery, is_postgres, money_text_sql, table_of, utc_text_sql
from apiforge.shop.catalog.errors import (
    CategoryExistsError,
    CategoryInUseError,
    UnknownCategoryError,
)
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.catalog.schemas import ProductListQuery, ProductSort, StockLine

products = table_of(Product)
categories = table_of(Category)

LIVE = products.c.is_archived.is_(False)
# Exactly the fields of `ProductRead`, so a row maps onto it with no renaming in Python.
PRODUCT_COLUMNS = (
    products.c.id,
    products.c.name,
    products.c.description,
    products.c.price_minor.label("price"),
    products.c.stock,
    products.c.category_id,
    products.c.created_at,
)
# Sort column and direction; `id` in the same direction breaks ties, so every order is total
# and each one is served by its (column, id) index.
SORTS = {
    ProductSort.ID: (products.c.id, False),
    ProductSort.PRICE: (products.c.price_minor, False),
    ProductSort.PRICE_DESC: (products.c.price_minor, True),
    ProductSort.NAME: (products.c.name, False),
    ProductSort.NEWEST: (products.c.created_at, True),
}


def _after(sort: ProductSort, key: Any, last_id: int) -> ColumnElement[bool]:
    """Rows strictly after (key, last_id) in `sort` order: one row-value comparison, which
    both PostgreSQL and SQLite turn into an index range."""
    column, descending = SORTS[sort]
    if sort is ProductSort.ID:
        return products.c.id < last_id if descending else products.c.id > last_id
    row = tuple_(column, products.c.id)
    bound = tuple_(literal(key, column.type), literal(last_id, products.c.id.type))
    return row < bound if descending else row > bound


def _filters(query: ProductListQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [LIVE]
    if query.category_id is not None:
        conditions.append(products.c.category_id == query.category_id)
    if query.min_price is not None:
        conditions.append(products.c.price_minor >= query.min_price)
    if query.max_price is not None:
        conditions.append(products.c.price_minor <= query.max_price)
    if query.in_stock is not None:
        conditions.append(products.c.stock > 0 if query.in_stock else products.c.stock == 0)
    return conditions


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's wildcards in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_statement(text: str, limit: int, after_id: int | None) -> Select[*tuple[Any, ...]]:
    """ILIKE on PostgreSQL, where the pg_trgm GIN indexes serve it (the planner may still pick
    a scan when a term matches many rows); on SQLite `lower(x) LIKE lower(y)`, which folds
    ASCII only."""
    pattern = contains_pattern(text)
    conditions: list[ColumnElement[bool]] = [
        LIVE,
        or_(
            products.c.name.ilike(pattern, escape="\\"),
            products.c.description.ilike(pattern, escape="\\"),
        ),
    ]
    if after_id is not None:
        conditions.append(products.c.id > after_id)
    return select(*PRODUCT_COLUMNS).where(*conditions).order_by(products.c.id).limit(limit + 1)


# Hot statements built once with bind parameters: building a select and its cache key per call
# cost more CPU than running it (see orders/repository.py).
_LOCK_STOCK = (
    select(products.c.id, products.c.name, products.c.price_minor, products.c.stock)
    .where(products.c.id.in_(bindparam("ids", expanding=True)), LIVE)
    .order_by(products.c.id)
    .with_for_update()
)
# Run as an executemany: the rows are already locked (lock_stock), so their order is moot.
_ADD_STOCK = (
    update(products)
    .where(products.c.id == bindparam("product_id"))
    .values(stock=products.c.stock + bindparam("delta"))
)
# An order's stock, locked and taken in one statement (one round trip instead of two, and no
# executemany): `locked` locks the live products in id order, as `_LOCK_STOCK` does (no
# deadlock between multi-product orders), and the update takes the quantities only if every
# product is there with enough stock (the guard is an InitPlan: evaluated, and so every lock
# taken, before the update touches a row). It answers the locked rows as they were before,
# each with whether the quantities were taken. $1: the product ids; $2: their quantities.
_LOCK_AND_TAKE = DriverQuery(
    "WITH wanted AS (SELECT * FROM unnest($1::bigint[], $2::int[]) AS w(id, quantity)), "
    "locked AS (SELECT p.id, p.name, p.price_minor, p.stock FROM products p "
    "WHERE p.id = ANY($1::bigint[]) AND NOT p.is_archived ORDER BY p.id FOR UPDATE), "
    "enough AS (SELECT count(*) = cardinality($1::bigint[]) "
    "AND coalesce(bool_and(l.stock >= w.quantity), false) AS ok "
    "FROM locked l JOIN wanted w ON w.id = l.id), "
    "taken AS (UPDATE products p SET stock = p.stock - w.quantity FROM wanted w "
    "WHERE p.id = w.id AND (SELECT ok FROM enough) RETURNING p.id) "
    "SELECT l.id, l.name, l.price_minor, l.stock, EXISTS (SELECT FROM taken) "
    "FROM locked l ORDER BY l.id"
)
_DETAIL = (
    select(*PRODUCT_COLUMNS, categories.c.name.label("category_name"))
    .join_from(products, categories, products.c.category_id == categories.c.id)
    .where(products.c.id == bindparam("product_id"), LIVE)
)

# The detail as the wire has it (money as "12.50", times in UTC with a Z), built by PostgreSQL
# and run by the driver: on a cache miss this is the whole read, and SQLAlchemy's execution
# plus pydantic's rendering cost more than the query (BENCHMARKS.md, "Uncached reads").
_PRODUCT_JSON = (
    "'id', p.id, 'name', p.name, 'description', p.description, "
    f"'price', {money_text_sql('p.price_minor')}, 'stock', p.stock, "
    f"'category_id', p.category_id, 'created_at', {utc_text_sql('p.created_at')}"
)
_DETAIL_JSON = DriverQuery(
    f"SELECT json_build_object({_PRODUCT_JSON}, "  # noqa: S608  # constant fragments; the id is $1
    "'category', json_build_object('id', c.id, 'name', c.name))::text "
    "FROM products p JOIN categories c ON c.id = p.category_id "
    "WHERE p.id = $1 AND NOT p.is_archived"
)

# The id-ordered, unfiltered listing (the catalog's front page and its next pages): the items
# of one page as JSON, the last one's id, and whether there is a next page ($1: the id to
# resume after, 0 for the first page; $2: the page size).
_ID_PAGE_JSON = DriverQuery(
    f"SELECT coalesce(json_agg(json_build_object({_PRODUCT_JSON}) ORDER BY p.id) "  # noqa: S608  # constant fragments; values are $n
    "FILTER (WHERE p.n <= $2), '[]')::text, max(p.id) FILTER (WHERE p.n <= $2), "
    "count(*) > $2 FROM (SELECT *, row_number() OVER (ORDER BY id) AS n FROM products "
    "WHERE NOT is_archived AND id > $1 ORDER BY id LIMIT $2 + 1) p"
)


class ProductRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def renders_json(self) -> bool:
        """Whether the `*_json` reads are available (PostgreSQL)."""
        return is_postgres(self.session)

    async def get_detail_json(self, product_id: int) -> str | None:
        """`get_detail` as the wire's JSON text, built by PostgreSQL (`renders_json` only)."""
        text: str | None = await _DETAIL_JSON.value(self.session, product_id)
        return text

    async def id_page_json(self, after_id: int, limit: int) -> tuple[str, int | None, bool]:
        """Up to `limit` live products by id after `after_id`, as the wire's JSON array text;
        the last one's id and whether more follow (`renders_json` only)."""
        row = await _ID_PAGE_JSON.row(self.session, after_id, limit)
        if row is None:  # an aggregate always answers one row
            return "[]", None, False
        return row[0], row[1], row[2]

    async def lock_stock(self, product_ids: Sequence[int]) -> dict[int, StockLine]:
        """Lock the live (not archived) products' rows in id order, so two orders touching the
        same products always lock them in the same order and cannot deadlock. On SQLite the
        writer's BEGIN IMMEDIATE already serialises writers."""
        params = {"ids": sorted(set(product_ids))}
        rows = (await self.session.execute(_LOCK_STOCK, params)).all()
        return {row.id: StockLine(row.id, row.name, row.price_minor, row.stock) for row in rows}

    async def lock_and_take(
        self, quantities: Mapping[int, int]
    ) -> tuple[dict[int, StockLine], bool]:
        """Lock the live products among `quantities` in id order (as `lock_stock`) and, only
        if every one is there with enough stock, take the quantities: the locked lines as they
        were before, and whether they were taken (else nothing was). One statement on
        PostgreSQL; `lock_stock` then `adjust_stock` elsewhere."""
        if not is_postgres(self.session):
            locked = await self.lock_stock(list(quantities))
            enough = all(
                pid in locked and locked[pid].stock >= quantity
                for pid, quantity in quantities.items()
            )
            if enough:
                await self.adjust_stock({pid: -quantity for pid, quantity in quantities.items()})
            return locked, enough
        ids = sorted(quantities)
        rows = await _LOCK_AND_TAKE.rows(self.session, ids, [quantities[pid] for pid in ids])
        locked = {row[0]: StockLine(row[0], row[1], row[2], row[3]) for row in rows}
        return locked, bool(rows) and bool(rows[0][4])

    async def adjust_stock(self, deltas: Mapping[int, int]) -> None:
        """Add each delta (negative to take) to its product's stock, in one executemany;
        the caller holds the rows' locks (`lock_stock`)."""
        if not deltas:
            return
        rows = [{"product_id": pid, "delta": delta} for pid, delta in sorted(deltas.items())]
        await self.session.execute(_ADD_STOCK, rows)

    async def list_page(
        self, query: ProductListQuery, after: tuple[Any, int] | None
    ) -> Sequence[RowMapping]:
        """Up to `limit + 1` live products in the query's order after the cursor position; the
        extra row only tells the caller there is a next page."""
        column, descending = SORTS[query.sort]
        conditions = _filters(query)
        if after is not None:
            conditions.append(_after(query.sort, *after))
        tie_breaker = products.c.id.desc() if descending else products.c.id
        order = (
            [tie_breaker]
            if query.sort is ProductSort.ID
            else [
                column.desc() if descending else column,
                tie_breaker,
            ]
        )
        statement = (
            select(*PRODUCT_COLUMNS).where(*conditions).order_by(*order).limit(query.limit + 1)
        )
        return (await self.session.execute(statement)).mappings().all()

    async def search(self, text: str, limit: int, after_id: int | None) -> Sequence[RowMapping]:
        """Up to `limit + 1` live products whose name or description contains `text`, by id."""
        statement = search_statement(text, limit, after_id)
        return (await self.session.execute(statement)).mappings().all()

    async def get_detail(self, product_id: int) -> RowMapping | None:
        """A live product with its category's name, in one joined query."""
        result = await self.session.execute(_DETAIL, {"product_id": product_id})
        return result.mappings().first()

    async def get_live(self, product_id: int) -> Product | None:
        statement = select(Product).where(Product.id == product_id, LIVE)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def lock_live(self, product_id: int) -> bool:
        """Lock a live product's row; False if there is none. An order locks the same row
        before adding its lines, so under this lock a delete's foreign-key check (does any
        order line refer to it?) cannot go stale."""
        statement = select(products.c.id).where(products.c.id == product_id, LIVE)
        result = await self.session.execute(statement.with_for_update())
        return result.first() is not None

    async def add(self, product: Product) -> None:
        await self.save(product, {})

    async def save(self, product: Product, changes: Mapping[str, object]) -> None:
        """Write `product` with `changes` applied, in a savepoint: a foreign-key failure (the
        category is gone, even if deleted a moment ago by another request) becomes a 422 and
        leaves the request's transaction usable."""
        # Read before the savepoint: a rolled-back savepoint expires the instance, and an
        # expired attribute cannot be loaded lazily under asyncio.
        category_id = changes.get("category_id", product.category_id)
        try:
            async with self.session.begin_nested():
                for name, value in changes.items():
                    setattr(product, name, value)
                self.session.add(product)
        except IntegrityError as exc:
            raise UnknownCategoryError(category_id) from exc

    async def low_stock(self, threshold: int, limit: int) -> Sequence[RowMapping]:
        """Live products with at most `threshold` in stock, fewest first."""
        statement = (
            select(products.c.id, products.c.name, products.c.stock)
            .where(LIVE, products.c.stock <= threshold)
            .order_by(products.c.stock, products.c.id)
            .limit(limit)
        )
        return (await self.session.execute(statement)).mappings().all()

    async def delete_unless_referenced(self, product_id: int) -> bool:
        """Delete the product; False, with nothing deleted, when rows of another table (order
        lines) still refer to it: their foreign key refuses, so the catalog needs no query
        into the orders' tables. In a savepoint, so the transaction lives on."""
        try:
            async with self.session.begin_nested():
                await self.session.execute(delete(products).where(products.c.id == product_id))
        except IntegrityError:
            return False
        return True

    async def archive(self, product_id: int) -> None:
        await self.session.execute(
            update(products).where(products.c.id == product_id).values(is_archived=True)
        )


class CategoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_all(self) -> Sequence[RowMapping]:
        statement = select(categories.c.id, categories.c.name, categories.c.description).order_by(
            categories.c.name, categories.c.id
        )
        return (await self.session.execute(statement)).mappings().all()

    async def get(self, category_id: int) -> Category | None:
        return await self.session.get(Category, category_id)

    async def save(self, category: Category, changes: Mapping[str, object]) -> None:
        """Write `category` with `changes` applied; a taken name is a 409. The unique index is
        the check (a SELECT first would race), inside a savepoint so the transaction lives on."""
        try:
            async with self.session.begin_nested():
                for name, value in changes.items():
                    setattr(category, name, value)
                self.session.add(category)
        except IntegrityError as exc:
            raise CategoryExistsError from exc

    async def has_products(self, category_id: int) -> bool:
        statement = select(exists().where(products.c.category_id == category_id))
        return bool((await self.session.execute(statement)).scalar())

    async def delete(self, category_id: int) -> bool:
        """Delete the category; False if there was none. Products still pointing at it (the
        foreign key is RESTRICT) make it a 409, even when they arrived after the caller's check."""
        try:
            async with self.session.begin_nested():
                statement = (
                    delete(categories)
                    .where(categories.c.id == category_id)
                    .returning(categories.c.id)
                )
                deleted = (await self.session.execute(statement)).first()
        except IntegrityError as exc:
            raise CategoryInUseError(category_id) from exc
        return deleted is not None
