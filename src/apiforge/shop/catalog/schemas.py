"""Catalog shapes on the wire (prices are `MoneyMinor`: ints of cents in code, "12.50" strings
on the wire) and `StockLine`, what the orders domain gets for a locked product."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

from apiforge.kit import LongText, MoneyMinor, RowId, SafeStr, ShortText

MAX_STOCK = 2**31 - 1  # the column is a 32-bit INTEGER
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK)]
Limit = Annotated[int, Field(ge=1, le=100)]
# No length limit here: `decode_cursor` checks it, so every bad cursor gets the same code.
Cursor = str
SearchText = Annotated[SafeStr, StringConstraints(min_length=1, max_length=100)]


# Stock at or below this is low (`stock.low`); APIFORGE_CATALOG__LOW_STOCK_THRESHOLD.
DEFAULT_LOW_STOCK_THRESHOLD = 5


@dataclass(frozen=True, slots=True)
class StockLine:
    """A product row locked for an order: what the order needs to price and check it."""

    id: int
    name: str
    price_minor: int
    stock: int


class ProductSort(StrEnum):
    ID = "id"
    PRICE = "price"
    PRICE_DESC = "-price"
    NAME = "name"
    NEWEST = "-created_at"


class CategoryRef(BaseModel):
    id: int
    name: str


class CategoryRead(CategoryRef):
    description: str


class CategoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText
    description: LongText = ""


class _Patch(BaseModel):
    """A partial update: omitted fields stay as they are. `null` is refused rather than read as
    "leave alone" or "clear" (no field here may be empty), and the schema does not offer it."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"fields may be omitted but not null: {', '.join(nulls)}")
        return self


class CategoryUpdate(_Patch):
    name: ShortText | SkipJsonSchema[None] = None
    description: LongText | SkipJsonSchema[None] = None


class ProductRead(BaseModel):
    id: int
    name: str
    description: str
    price: MoneyMinor
    stock: int
    category_id: int
    created_at: datetime


class ProductDetail(ProductRead):
    category: CategoryRef


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText
    description: LongText = ""
    price: MoneyMinor
    stock: Stock = 0
    category_id: RowId


class ProductUpdate(_Patch):
    name: ShortText | SkipJsonSchema[None] = None
    description: LongText | SkipJsonSchema[None] = None
    price: MoneyMinor | SkipJsonSchema[None] = None
    stock: Stock | SkipJsonSchema[None] = None
    category_id: RowId | SkipJsonSchema[None] = None


class _Query(BaseModel):
    """Query parameters: unknown ones are refused (a typo such as `sort_by` would otherwise be
    silently ignored), and an empty one (`?cursor=`, as forms and URL templates send) counts
    as absent."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: object) -> object:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value != ""}
        return data


class ProductListQuery(_Query):
    """`GET /api/products` query. `in_stock=true` keeps products with stock, `false` only
    those without; omitted, both."""

    limit: Limit = 20
    cursor: Cursor | None = None
    category_id: RowId | None = None
    min_price: MoneyMinor | None = None
    max_price: MoneyMinor | None = None
    in_stock: bool | None = None
    sort: ProductSort = ProductSort.ID


class ProductSearchQuery(_Query):
    """`GET /api/products/search` query: `q` is matched as a plain substring (`%` and `_` are
    literal), case-insensitively, in the name or the description."""

    q: SearchText
    limit: Limit = 20
    cursor: Cursor | None = None


class ImportResult(BaseModel):
    imported: int


class ExportFormat(StrEnum):
    NDJSON = "ndjson"
    CSV = "csv"


class ExportQuery(_Query):
    format: ExportFormat = ExportFormat.NDJSON


class CategorySales(BaseModel):
    id: int
    name: str
    units_sold: int


class LowStockProduct(BaseModel):
    id: int
    name: str
    stock: int


class StockAdjustmentMessage(BaseModel):
    """One message of the warehouse stock feed (`apiforge consume stock`): add `delta` to
    the product's stock, or set it to `absolute` (exactly one of them). Its id is the AMQP
    `message_id` property, or `message_id` here when the producer cannot set properties."""

    model_config = ConfigDict(extra="forbid")

    message_id: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    product_id: RowId
    delta: Annotated[int, Field(ge=-MAX_STOCK, le=MAX_STOCK)] | None = None
    absolute: Stock | None = None

    @model_validator(mode="after")
    def _one_change(self) -> Self:
        if (self.delta is None) == (self.absolute is None):
            raise ValueError("give exactly one of delta and absolute")
        return self
