"""The `db` baseline: a bare FastAPI app reading the shop's own rows from the shop's own
PostgreSQL database with raw asyncpg, what a database read in Python can cost at best
(TechEmpower's FastAPI implementation is built the same way).

One pool, statements prepared once per connection (asyncpg's statement cache), the JSON built
by PostgreSQL (`json_build_object`, `json_agg`) and its text passed through as the response
body: no ORM, no pydantic, no middleware. It checks no password and enforces no tenancy (it
reads as the database's owner); it is a ceiling to divide by, not a service.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import orjson
from fastapi import FastAPI, Header, Request, Response

# SQL below is assembled from constant fragments (no input is ever formatted in: values go as
# $n parameters), hence the S608 waivers.
# The database URL comes in the server's `.env` (never argv, where `ps` would show it).
DSN_VARIABLE = "APIFORGE_BENCH_DB_DSN"
PAGE_SIZE = 20
# The shop's default pool; the bench passes the shop's own `APIFORGE_DB__POOL_SIZE` when it
# sets one, so both hold as many connections.
POOL_SIZE = 20
POOL_VARIABLE = "APIFORGE_DB__POOL_SIZE"
TOKEN_PREFIX = "dbbaseline."  # noqa: S105  # a marker, not a secret


def _money(column: str) -> str:
    """SQL for minor units as the wire's decimal string (1250 -> '12.50'), like the shop's."""
    return f"(({column}) / 100)::text || '.' || lpad((({column}) % 100)::text, 2, '0')"


_PRODUCT_FIELDS = (
    "'id', p.id, 'name', p.name, 'description', p.description, "
    f"'price', {_money('p.price_minor')}, 'stock', p.stock, 'category_id', p.category_id, "
    "'created_at', p.created_at"
)
PRODUCT_DETAIL = (
    f"SELECT json_build_object({_PRODUCT_FIELDS}, "  # noqa: S608
    "'category', json_build_object('id', c.id, 'name', c.name))::text "
    "FROM products p JOIN categories c ON c.id = p.category_id "
    "WHERE p.id = $1 AND NOT p.is_archived"
)
PRODUCT_PAGE = (
    f"SELECT coalesce(json_agg(json_build_object({_PRODUCT_FIELDS}) ORDER BY p.id), '[]')::text, "  # noqa: S608
    "max(p.id), count(*) FROM (SELECT * FROM products WHERE NOT is_archived "
    "ORDER BY id LIMIT $1) p"
)
_LINES = (
    "SELECT coalesce(json_agg(json_build_object('product_id', l.product_id, "  # noqa: S608
    "'product_name', l.product_name, 'quantity', l.quantity, "
    f"'unit_price', {_money('l.unit_price_minor')}, "
    f"'line_total', {_money('l.unit_price_minor * l.quantity')}) ORDER BY l.id), '[]') "
    "FROM order_lines l WHERE l.order_id = o.id"
)
MY_ORDERS = (
    "SELECT coalesce(json_agg(json_build_object('id', o.id, 'organization_id', o.organization_id, "  # noqa: S608
    f"'status', o.status, 'total', {_money('o.total_minor')}, 'created_at', o.created_at, "
    f"'cancelled_at', o.cancelled_at, 'items', ({_LINES})) ORDER BY o.id DESC), '[]')::text, "
    "min(o.id), count(*) FROM (SELECT * FROM orders WHERE user_id = $1 "
    "AND organization_id IS NULL ORDER BY id DESC LIMIT $2) o"
)
CATEGORIES = (
    "SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, "
    "'description', description) ORDER BY name), '[]')::text FROM categories"
)
USER_BY_EMAIL = "SELECT id FROM users WHERE email = $1"


def dsn_from_url(url: str) -> str:
    """asyncpg's DSN from the shop's SQLAlchemy URL (`postgresql+asyncpg://...`)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


def _configured(variable: str) -> str | None:
    """`variable` from `.env` in the working directory, where the bench writes the server's
    settings (only kit.settings reads the environment itself)."""
    env_file = Path(".env")
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name == variable:
                return value
    return None


def _configured_dsn() -> str:
    dsn = _configured(DSN_VARIABLE)
    if dsn is None:
        raise RuntimeError(f"the db baseline needs {DSN_VARIABLE} in .env")
    return dsn


def _json(body: str) -> Response:
    return Response(content=body.encode(), media_type="application/json")


def _page(items: str, last_id: int | None, count: int, limit: int) -> Response:
    cursor = None
    if count == limit and last_id is not None:
        cursor = orjson.dumps(["id", last_id]).decode()
    tail = "null" if cursor is None else orjson.dumps(cursor).decode()
    return _json(f'{{"items":{items},"next_cursor":{tail}}}')


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


def create_db_baseline_app(dsn: str | None = None, *, pool_size: int | None = None) -> FastAPI:
    """A factory: `uvicorn --factory apiforge.bench.db_baseline:create_db_baseline_app`, with
    the database as `APIFORGE_BENCH_DB_DSN` in `.env` (or `dsn`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # UTC like the shop's timestamps; the statement cache keeps every query prepared. Opened
        # lazily, like the shop's pool: connections are shared with everything else on the server.
        size = pool_size or int(_configured(POOL_VARIABLE) or POOL_SIZE)
        app.state.pool = await asyncpg.create_pool(
            dsn or _configured_dsn(), min_size=1, max_size=size,
            server_settings={"timezone": "UTC"},
        )  # fmt: skip
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(
        title="apiforge db baseline", docs_url=None, redoc_url=None, openapi_url=None,
        lifespan=lifespan,
    )  # fmt: skip
    _catalog_routes(app)
    _order_routes(app)
    return app


def _catalog_routes(app: FastAPI) -> None:
    @app.get("/api/categories")
    async def list_categories(request: Request) -> Response:
        return _json(await _pool(request).fetchval(CATEGORIES))

    @app.get("/api/products")
    async def list_products(request: Request) -> Response:
        row = await _pool(request).fetchrow(PRODUCT_PAGE, PAGE_SIZE)
        return _page(row[0], row[1], row[2], PAGE_SIZE)

    @app.get("/api/products/{product_id}")
    async def get_product(request: Request, product_id: int) -> Response:
        body = await _pool(request).fetchval(PRODUCT_DETAIL, product_id)
        if body is None:
            return Response(status_code=404)
        return _json(body)


def _order_routes(app: FastAPI) -> None:
    @app.post("/api/auth/login")
    async def login(request: Request) -> Response:
        email = orjson.loads(await request.body()).get("email")
        user_id = await _pool(request).fetchval(USER_BY_EMAIL, email)
        if user_id is None:
            return Response(status_code=401)
        token = orjson.dumps({"access_token": f"{TOKEN_PREFIX}{user_id}", "token_type": "bearer"})
        return Response(content=token, media_type="application/json")

    @app.get("/api/orders")
    async def list_orders(request: Request, authorization: str = Header("")) -> Response:
        token = authorization.removeprefix("Bearer ")
        if not token.startswith(TOKEN_PREFIX):
            return Response(status_code=401)
        user_id = int(token.removeprefix(TOKEN_PREFIX))
        row = await _pool(request).fetchrow(MY_ORDERS, user_id, PAGE_SIZE)
        return _page(row[0], row[1], row[2], PAGE_SIZE)
