"""The warehouse stock feed's handler on both databases (the consumer around it is tested in
tests/kit/consumer, the whole process with `kill -9` in test_stock_feed_process.py): each
message id applied once, in the transaction that claims it; poison refused with nothing
written."""

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Database, Delivery, PoisonMessageError
from apiforge.shop.catalog.jobs import StockFeedHandler
from apiforge.shop.catalog.models import Product
from apiforge.shop.events.models import InboxMessage, OutboxEvent
from tests.factories import create_category, create_product


def _delivery(body: object, message_id: str | None = "m-1", attempt: int = 1) -> Delivery:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return Delivery(message_id=message_id, body=raw, headers={}, attempt=attempt)


async def _product(session: AsyncSession, stock: int = 10) -> Product:
    category = await create_category(session, name="Feed")
    return await create_product(session, category=category, name="Bolt", stock=stock)


async def _stock(session: AsyncSession, product: Product) -> int:
    return int(await session.scalar(select(Product.stock).where(Product.id == product.id)) or 0)


async def _count(session: AsyncSession, model: type[InboxMessage | OutboxEvent]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_delta_is_applied_once_by_message_id(
    database: Database, session: AsyncSession
) -> None:
    product = await _product(session)
    handler = StockFeedHandler(database)
    message = {"product_id": product.id, "delta": -3}
    await handler(_delivery(message))
    await handler(_delivery(message, attempt=2))  # the broker's redelivery
    assert await _stock(session, product) == 7
    await handler(_delivery(message, message_id="m-2"))  # another adjustment
    assert await _stock(session, product) == 4
    assert await _count(session, InboxMessage) == 2


async def test_an_absolute_level_is_set(database: Database, session: AsyncSession) -> None:
    product = await _product(session)
    await StockFeedHandler(database)(_delivery({"product_id": product.id, "absolute": 42}))
    assert await _stock(session, product) == 42


async def test_the_body_may_carry_the_message_id(database: Database, session: AsyncSession) -> None:
    product = await _product(session)
    body = {"message_id": "from-body", "product_id": product.id, "delta": 1}
    handler = StockFeedHandler(database)
    await handler(_delivery(body, message_id=None))
    await handler(_delivery(body, message_id=None))
    assert await _stock(session, product) == 11


async def test_crossing_the_threshold_records_stock_low(
    database: Database, session: AsyncSession
) -> None:
    product = await _product(session, stock=10)
    await StockFeedHandler(database, low_stock_threshold=5)(
        _delivery({"product_id": product.id, "delta": -6})
    )
    row = (await session.execute(select(OutboxEvent))).scalar_one()
    assert row.type == "stock.low"
    assert orjson.loads(row.payload)["stock"] == 4


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        {"product_id": 1},
        {"product_id": 1, "delta": 1, "absolute": 1},
        {"product_id": 1, "delta": 1, "extra": True},
        {"product_id": "one", "delta": 1},
        {"product_id": 1, "absolute": -1},
        {"product_id": 1, "delta": 2**40},
    ],
)
async def test_malformed_messages_are_poison(
    database: Database, session: AsyncSession, body: object
) -> None:
    with pytest.raises(PoisonMessageError, match="malformed"):
        await StockFeedHandler(database)(_delivery(body))
    assert await _count(session, InboxMessage) == 0


async def test_an_unknown_product_is_poison_and_writes_nothing(
    database: Database, session: AsyncSession
) -> None:
    with pytest.raises(PoisonMessageError, match="does not exist"):
        await StockFeedHandler(database)(_delivery({"product_id": 999_999, "delta": 1}))
    assert await _count(session, InboxMessage) == 0


async def test_a_negative_result_is_poison_and_writes_nothing(
    database: Database, session: AsyncSession
) -> None:
    product = await _product(session, stock=2)
    with pytest.raises(PoisonMessageError, match="would leave -1"):
        await StockFeedHandler(database)(_delivery({"product_id": product.id, "delta": -3}))
    assert await _stock(session, product) == 2
    assert await _count(session, InboxMessage) == 0


@pytest.mark.parametrize("message_id", [None, "x" * 256])
async def test_a_message_without_a_usable_id_is_poison(
    database: Database, session: AsyncSession, message_id: str | None
) -> None:
    product = await _product(session)
    with pytest.raises(PoisonMessageError, match="message id"):
        await StockFeedHandler(database)(
            _delivery({"product_id": product.id, "delta": 1}, message_id=message_id)
        )
    assert await _stock(session, product) == 10
