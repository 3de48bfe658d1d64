"""The bare FastAPI baseline every ratio is measured against: the shop's JSON shapes served
from memory, `async def` handlers with pydantic response models, and no middleware at all.

Not a fake shop: nothing is validated beyond the request models and nothing is stored, so
what it costs is FastAPI + pydantic + Uvicorn, the ceiling the shop can approach.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

PAGE_SIZE = 20
PRODUCTS = 1_000
CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)


class CategoryRef(BaseModel):
    id: int
    name: str


class Category(CategoryRef):
    description: str


class Product(BaseModel):
    id: int
    name: str
    description: str
    price: str
    stock: int
    category_id: int
    created_at: datetime


class ProductDetail(Product):
    category: CategoryRef


class ProductPage(BaseModel):
    items: list[Product]
    next_cursor: str | None = None


class OrderLine(BaseModel):
    product_id: int
    product_name: str
    quantity: int
    unit_price: str
    line_total: str


class Order(BaseModel):
    id: int
    organization_id: int | None = None
    status: str
    total: str
    created_at: datetime
    cancelled_at: datetime | None
    items: list[OrderLine]


class OrderPage(BaseModel):
    items: list[Order]
    next_cursor: str | None = None


class OrderItem(BaseModel):
    product_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=1000)


class OrderCreate(BaseModel):
    items: list[OrderItem] = Field(min_length=1, max_length=50)


class ProductUpdate(BaseModel):
    stock: int | None = None


class Login(BaseModel):
    email: str
    password: str


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105  # the OAuth2 token type, not a secret
    expires_in: int


class Dashboard(BaseModel):
    order_count: int
    total_spent: str
    recent_orders: list[Order]
    top_categories: list[CategoryRef]


CATEGORIES = [
    Category(id=i, name=f"Category {i}", description="Things people buy, and more of them.")
    for i in range(1, 13)
]


def _product(product_id: int) -> Product:
    category = (product_id - 1) % len(CATEGORIES) + 1
    return Product(
        id=product_id,
        name=f"Compact Aero Laptop {product_id}",
        description="A plausible product description of about the usual length for a shop.",
        price=f"{100 + product_id % 900}.99",
        stock=product_id % 250,
        category_id=category,
        created_at=CREATED_AT,
    )


PRODUCT_ROWS = [_product(i) for i in range(1, PRODUCTS + 1)]


def _order(order_id: int, lines: int = 3) -> Order:
    items = [
        OrderLine(
            product_id=n,
            product_name=PRODUCT_ROWS[n - 1].name,
            quantity=1,
            unit_price=PRODUCT_ROWS[n - 1].price,
            line_total=PRODUCT_ROWS[n - 1].price,
        )
        for n in range(1, lines + 1)
    ]
    return Order(
        id=order_id,
        status="placed",
        total="329.97",
        created_at=CREATED_AT,
        cancelled_at=None,
        items=items,
    )


ORDERS = [_order(i) for i in range(PAGE_SIZE, 0, -1)]
ORGANIZATION_ORDERS = [order.model_copy(update={"organization_id": 1}) for order in ORDERS]


def create_baseline_app() -> FastAPI:
    """A factory, like the shop's:
    `uvicorn --factory apiforge.bench.baseline:create_baseline_app`."""
    app = FastAPI(title="apiforge bench baseline", docs_url=None, redoc_url=None, openapi_url=None)

    _catalog_routes(app)
    _order_routes(app)
    return app


def _catalog_routes(app: FastAPI) -> None:
    @app.get("/api/products")
    async def list_products() -> ProductPage:
        return ProductPage(items=PRODUCT_ROWS[:PAGE_SIZE], next_cursor="WyJpZCIsMjBd")

    @app.get("/api/products/search")
    async def search_products(q: Annotated[str, Query(max_length=100)]) -> ProductPage:
        return ProductPage(items=PRODUCT_ROWS[PAGE_SIZE : 2 * PAGE_SIZE], next_cursor=None)

    @app.get("/api/products/{product_id}")
    async def get_product(product_id: int) -> ProductDetail:
        row = PRODUCT_ROWS[(product_id - 1) % PRODUCTS]
        category = CATEGORIES[row.category_id - 1]
        ref = CategoryRef(id=category.id, name=category.name)
        return ProductDetail(**row.model_dump(), category=ref)

    @app.patch("/api/products/{product_id}")
    async def update_product(product_id: int, data: ProductUpdate) -> Product:
        return PRODUCT_ROWS[(product_id - 1) % PRODUCTS]

    @app.get("/api/categories")
    async def list_categories() -> list[Category]:
        return CATEGORIES


def _order_routes(app: FastAPI) -> None:
    @app.get("/api/orders")
    async def list_orders() -> OrderPage:
        return OrderPage(items=ORDERS, next_cursor="WyJpZCIsMV0")

    @app.get("/api/organizations/{org_id}/orders")
    async def list_organization_orders(org_id: int) -> OrderPage:
        return OrderPage(items=ORGANIZATION_ORDERS, next_cursor="WyJpZCIsMV0")

    @app.get("/api/organizations")
    async def list_organizations() -> list[dict[str, object]]:
        return [{"id": 1, "name": "Acme Corp", "created_at": CREATED_AT, "role": "owner"}]

    @app.post("/api/organizations/{org_id}/api-keys", status_code=201)
    async def create_api_key(org_id: int) -> dict[str, str]:
        return {"key": "afk_baselinekey00_" + "k" * 43}

    @app.post("/api/orders", status_code=201)
    async def place_order(data: OrderCreate) -> Order:
        return _order(1, lines=len(data.items))

    @app.post("/api/auth/login")
    async def login(data: Login) -> TokenPair:
        return TokenPair(
            access_token="baseline." + data.email, refresh_token="r" * 43, expires_in=900
        )

    @app.get("/api/dashboard")
    async def dashboard() -> Dashboard:
        return Dashboard(
            order_count=len(ORDERS),
            total_spent="6599.40",
            recent_orders=ORDERS[:5],
            top_categories=[CategoryRef(id=c.id, name=c.name) for c in CATEGORIES[:5]],
        )
