"""The one reader and formatter of numbers (agreements.numbers): what users type, what they read."""

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from agreements.numbers import (
    MAX_INPUT_CHARS,
    NumberInputError,
    format_amount,
    format_integer,
    format_percent,
    format_rate,
    parse_amount,
    parse_integer,
)


@pytest.mark.parametrize(
    "text",
    ["34’000", "34'000", "34 000", "34\u00a0000", "34\u202f000", "34.000", "34,000", "34000"],
)
def test_every_way_of_writing_thirty_four_thousand_means_34000(text):
    assert parse_integer(text) == 34000
    assert parse_amount(text) == Decimal("34000.00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1’234’567", 1234567),
        ("1.234.567", 1234567),
        ("1,234,567", 1234567),
        ("58", 58),
        (" 7 ", 7),
        ("0", 0),
        ("10.005", 10005),
        ("12,0", 12),  # a fraction of nothing: nothing is cut
        ("-5", -5),  # the fields decide whether a negative figure is allowed
        ("−5", -5),
    ],
)
def test_whole_numbers(text, expected):
    assert parse_integer(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1’234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1 234,5", "1234.50"),
        ("1234,5", "1234.50"),
        ("CHF 184’500.00", "184500.00"),
        ("184’500.00 CHF", "184500.00"),
        ("Fr. 12.50", "12.50"),
        ("120750.5", "120750.50"),
        ("0.5", "0.50"),
    ],
)
def test_amounts(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("34,5", "„34,5“ ist keine ganze Zahl. Bitte ohne Nachkommastellen eingeben"),
        ("3.4", "„3.4“ ist keine ganze Zahl."),
        ("1’234.50", "„1’234.50“ ist keine ganze Zahl."),
        ("1234.000", "„1234.000“ ist nicht eindeutig."),
        ("0,500", "„0,500“ ist nicht eindeutig."),
        ("34’00", "„34’00“ ist keine Zahl: Tausender werden in Dreiergruppen getrennt"),
        ("1.2.3", "„1.2.3“ ist keine Zahl"),
        ("3’4000", "„3’4000“ ist keine Zahl"),
        ("94,5%", "„94,5%“ ist ein Prozentwert; hier ist eine Anzahl gefragt"),
        ("12x", "„12x“ ist keine Zahl. Bitte eine ganze Zahl eingeben, z. B. 34’000."),
        ("viele", "„viele“ ist keine Zahl."),
        ("1e9", "„1e9“ ist keine Zahl."),
        ("١٢٣", "„١٢٣“ ist keine Zahl."),
        ("1,2.3,4", "„1,2.3,4“ ist keine Zahl."),
        ("1" * (MAX_INPUT_CHARS + 1), "Die Eingabe ist zu lang für eine Zahl"),
        ("9" * 5000, "Die Eingabe ist zu lang für eine Zahl"),
    ],
)
def test_whole_numbers_refused_with_what_was_typed(text, message):
    with pytest.raises(NumberInputError) as refused:
        parse_integer(text)
    assert message in refused.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.234,567", "„1.234,567“: höchstens zwei Nachkommastellen (Rappen)."),
        ("12.345", None),  # thousands, not three decimals: accepted below
        ("CHF", "„CHF“ ist keine Zahl. Bitte einen Betrag eingeben, z. B. 1’234.50."),
        ("12,5 %", "ist ein Prozentwert; hier ist ein Betrag gefragt"),
    ],
)
def test_amounts_refused_with_what_was_typed(text, message):
    if message is None:
        assert parse_amount(text) == Decimal("12345.00")
        return
    with pytest.raises(NumberInputError) as refused:
        parse_amount(text)
    assert message in refused.value.message


def test_formats():
    assert format_integer(34000) == "34’000"
    assert format_integer(1234567) == "1’234’567"
    assert format_integer(0) == "0"
    assert format_amount(Decimal("1234.5")) == "1’234.50"
    assert format_amount(Decimal("0.005")) == "0.01"
    assert format_percent(Decimal("45.63")) == "45,6\u00a0%"
    assert format_percent(Decimal("12345.66")) == "12’345,7\u00a0%"
    assert format_percent(Decimal("94.5")) == "94,5\u00a0%"
    assert format_percent(80, places=0) == "80\u00a0%"


def test_a_conversion_rate_above_100_percent_is_a_ratio():
    # Up to 100 % the share that reaches the next stage; above, more than the stage before.
    assert format_rate(Decimal("45.63")) == "45,6\u00a0%"
    assert format_rate(100) == "100,0\u00a0%"
    assert format_rate(Decimal("120")) == "1,2\u00a0:\u00a01"  # 480 MQL from 400 accounts
    assert format_rate(Decimal(570) * 100 / 450) == "1,27\u00a0:\u00a01"
    assert format_rate(Decimal("200")) == "2\u00a0:\u00a01"


@given(st.integers(min_value=-(10**60), max_value=10**60))
@example(0)
@example(999)
@example(1000)
@example(-1000)
def test_every_integer_reads_back_as_printed(number):
    assert parse_integer(format_integer(number)) == number


@given(
    st.decimals(
        min_value=Decimal(-(10**15)),
        max_value=Decimal(10**15),
        places=2,
        allow_nan=False,
        allow_infinity=False,
    )
)
@example(Decimal("0.00"))
@example(Decimal("1000.00"))
@example(Decimal("0.05"))
@example(Decimal("-0.50"))
def test_every_amount_reads_back_as_printed(amount):
    assert parse_amount(format_amount(amount)) == amount


@given(st.integers(min_value=0, max_value=10**15))
def test_a_printed_integer_is_also_read_as_the_same_amount(number):
    """A figure copied from a table into an amount field is the same number of francs."""
    assert parse_amount(format_integer(number)) == number
