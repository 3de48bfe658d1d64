"""The catalog's work outside requests: applying the warehouse stock feed. Each message is
applied exactly once: its id is claimed in the inbox in the same transaction as the stock
change, and the consumer acknowledges it only after that transaction committed."""

import orjson
from pydantic import ValidationError

from apiforge.kit import CacheBackend, Database, Delivery, PoisonMessageError
from apiforge.shop.catalog.errors import ProductNotFoundError, StockAdjustmentError
from apiforge.shop.catalog.schemas import DEFAULT_LOW_STOCK_THRESHOLD, StockAdjustmentMessage
from apiforge.shop.catalog.service import CatalogService

STOCK_FEED = "stock-feed"


class StockFeedHandler:
    """The `MessageHandler` of `apiforge consume stock`. Malformed messages, unknown or
    archived products and adjustments that would leave the stock negative are poison
    (dead-lettered at once, nothing written); anything else that fails (the database is
    down) is retried by the consumer."""

    def __init__(
        self,
        database: Database,
        *,
        low_stock_threshold: int = DEFAULT_LOW_STOCK_THRESHOLD,
        cache: CacheBackend | None = None,
    ) -> None:
        self.database = database
        self.low_stock_threshold = low_stock_threshold
        self.cache = cache

    async def __call__(self, delivery: Delivery) -> None:
        adjustment = _parse(delivery.body)
        message_id = delivery.message_id or adjustment.message_id
        if not message_id or len(message_id) > 255:
            raise PoisonMessageError("no message id (AMQP message_id or message_id)")
        try:
            async with self.database.transaction() as session:
                catalog = CatalogService(
                    session, cache=self.cache, low_stock_threshold=self.low_stock_threshold
                )
                if not await catalog.events.claim_message(STOCK_FEED, message_id):
                    return  # applied before (a redelivery): acknowledge, change nothing
                await catalog.adjust_stock(
                    adjustment.product_id, delta=adjustment.delta, absolute=adjustment.absolute
                )
        except (ProductNotFoundError, StockAdjustmentError) as exc:
            raise PoisonMessageError(exc.detail) from exc


def _parse(body: bytes) -> StockAdjustmentMessage:
    try:
        return StockAdjustmentMessage.model_validate(orjson.loads(body))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        # Which fields were wrong, not their values: the body is the producer's.
        raise PoisonMessageError(f"malformed stock adjustment: {_summary(exc)}") from exc


def _summary(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            ".".join(str(p) for p in error["loc"]) or error["msg"]
            for error in exc.errors(include_input=False)
        )
    return "not JSON"
