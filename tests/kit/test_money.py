import re
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ValidationError

from apiforge.kit import MoneyMinor, format_minor, parse_money
from apiforge.kit.money import MAX_MINOR


class Price(BaseModel):
    amount: MoneyMinor


@pytest.mark.parametrize(
    ("minor", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (10, "0.10"),
        (1250, "12.50"),
        (1999, "19.99"),
        (MAX_MINOR - 1, "9999999999.99"),
    ],
)
def test_format_and_parse_round_trip(minor: int, text: str) -> None:
    assert format_minor(minor) == text
    assert parse_money(text) == minor


@pytest.mark.parametrize(
    ("text", "minor"),
    [("12", 1200), ("12.5", 1250), ("0.5", 50), ("007.00", 700), ("0", 0)],
)
def test_parse_accepts_short_forms(text: str, minor: int) -> None:
    assert parse_money(text) == minor


@pytest.mark.parametrize(
    "value",
    [
        "-1.00",  # negative
        "-0.01",
        "1.005",  # three decimals
        "1.",
        ".50",
        "1e3",  # exponent notation
        "1E2",
        "NaN",
        "Infinity",
        " 1.00",
        "1.00 ",
        "1.00\n",
        "1,00",
        "+1.00",
        "12345678901.00",  # more than ten whole digits
        "9" * 400,
        "١٢.٥٠",  # Arabic-Indic digits: money on the wire is ASCII
        "１２.５０",  # full-width digits
        "",
        12.5,  # floats lose cents
        12,  # ints are ambiguous on the wire (cents or units?)
        0,
        True,
        None,
        b"12.50",
    ],
    ids=repr,
)
def test_parse_rejects(value: Any) -> None:
    with pytest.raises(ValueError, match=r"money|amount"):
        parse_money(value)


def test_model_reads_strings_and_serialises_two_places() -> None:
    price = Price.model_validate({"amount": "12.5"})
    assert price.amount == 1250
    assert price.model_dump_json() == '{"amount":"12.50"}'
    assert price.model_dump(mode="json") == {"amount": "12.50"}
    assert Price.model_validate_json('{"amount": "0.07"}').amount == 7


def test_model_built_from_trusted_minor_units_serialises_as_money() -> None:
    """Output models are built from database ints without validation (the shop's pattern)."""
    assert Price.model_construct(amount=1250).model_dump_json() == '{"amount":"12.50"}'


@pytest.mark.parametrize("wire", ['{"amount": 12.5}', '{"amount": 1250}', '{"amount": "-1"}'])
def test_model_rejects_bad_wire_values(wire: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Price.model_validate_json(wire)
    assert caught.value.errors()[0]["loc"] == ("amount",)


def _pattern(mode: Literal["validation", "serialization"]) -> re.Pattern[str]:
    schema = Price.model_json_schema(mode=mode)["properties"]["amount"]
    assert schema["type"] == "string"
    return re.compile(schema["pattern"])


def test_input_schema_documents_exactly_what_is_accepted() -> None:
    pattern = _pattern("validation")
    for accepted in ("12", "12.5", "12.50", "0.01", "9999999999.99"):
        assert pattern.search(accepted), accepted
        parse_money(accepted)
    for refused in ("-1", "1.005", "1e3", "١٢", "１２", "12345678901", "1.", ".5"):
        assert not pattern.search(refused), refused
        with pytest.raises(ValueError, match=r"money|amount"):
            parse_money(refused)


@pytest.mark.parametrize("minor", [0, 7, 1250, MAX_MINOR - 1, MAX_MINOR * 50 * 1000])
def test_output_schema_matches_what_is_written(minor: int) -> None:
    assert _pattern("serialization").search(format_minor(minor))
