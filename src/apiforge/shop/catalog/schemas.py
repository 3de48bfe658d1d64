from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StockLine:
    """A product row locked for an order: what the order needs to price and check it."""

    id: int
    name: str
    price_minor: int
    stock: int
