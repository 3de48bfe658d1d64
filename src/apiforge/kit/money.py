"""Money on the wire is a decimal string with two places; in the database it is integer minor
units. Not for: currencies (one currency per service here)."""

import re
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

MAX_MINOR = 10**12  # 10 billion in major units: far above any price, far below bigint
# One pattern for the parser and the OpenAPI schema, so the documented contract is the enforced
# one. [0-9], not \d: Python's \d also matches Arabic-Indic or full-width digits.
MONEY_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
MONEY_OUTPUT_PATTERN = r"^[0-9]{1,17}\.[0-9]{2}$"
_MONEY = re.compile(MONEY_PATTERN)


def format_minor(minor: int) -> str:
    """1250 -> '12.50': minor units as the wire's decimal string (negative amounts too)."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def parse_money(value: object) -> int:
    """'12.5' -> 1250. Accepts a non-negative decimal string with at most two places."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError('money is a decimal string such as "12.50"')
    if not isinstance(value, str) or not _MONEY.fullmatch(value):
        raise ValueError("money is a non-negative decimal string with at most two places")
    minor = int(Decimal(value) * 100)
    if minor > MAX_MINOR:
        raise ValueError("amount too large")
    return minor


MoneyMinor = Annotated[
    int,
    BeforeValidator(parse_money),
    PlainSerializer(format_minor, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": MONEY_PATTERN, "examples": ["19.99"]}, mode="validation"
    ),
    # Outputs include totals (up to 50 lines x 1000 units x the largest price): wider.
    WithJsonSchema(
        {"type": "string", "pattern": MONEY_OUTPUT_PATTERN, "examples": ["19.99"]},
        mode="serialization",
    ),
]
MoneyMinor.__doc__ = """An amount of money: an `int` of minor units in code and in the database,
a decimal string with at most two places on the wire in both directions ("19.99"), checked by
`parse_money` (non-negative, at most 10 billion) and rendered by `format_minor`."""
