"""Dates as the SLA reads them (agreements.dates): months on the calendar, typed and
imported dates, and the period a renewal moves on to."""

import datetime

import pytest

from agreements.dates import add_months, parse_date, renewal_dates


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2027-01-15", 1, "2027-02-15"),
        ("2027-01-31", 1, "2027-02-28"),  # no 31 February: the month's last day
        ("2028-01-31", 1, "2028-02-29"),  # a leap year
        ("2028-02-29", 12, "2029-02-28"),
        ("2027-11-30", 3, "2028-02-29"),  # across the turn of the year
        ("2027-03-31", -1, "2027-02-28"),  # and back
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(day, months, expected):
    assert add_months(d(day), months) == d(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31.12.2027", "2027-12-31"),
        (" 31.12.27 ", "2027-12-31"),
        ("1.1.2027", "2027-01-01"),
        ("2027-12-31", "2027-12-31"),
    ],
)
def test_dates_are_read_day_first_or_iso(text, expected):
    assert parse_date(text) == d(expected)


@pytest.mark.parametrize("text", ["12/31/2027", "31.13.2027", "morgen", ""])
def test_what_is_no_date_reads_as_none(text):
    assert parse_date(text) is None


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # A calendar year, the renewal date keeps its day.
        (("2027-01-01", "2027-12-31", "2027-12-01"), ("2028-01-01", "2028-12-31", "2028-12-01")),
        # Into a leap year and out of it: a year stays a year.
        (("2027-03-01", "2028-02-29", "2028-02-29"), ("2028-03-01", "2029-02-28", "2029-02-28")),
        (("2028-01-01", "2028-12-31", "2028-02-29"), ("2029-01-01", "2029-12-31", "2029-02-28")),
        (("2031-03-01", "2032-02-29", "2031-12-01"), ("2032-03-01", "2033-02-28", "2032-12-01")),
        # A quarter, a leap February, whole months from the middle of a month.
        (("2027-01-01", "2027-03-31", "2027-03-01"), ("2027-04-01", "2027-06-30", "2027-06-01")),
        (("2028-02-01", "2028-02-29", "2028-02-15"), ("2028-03-01", "2028-03-31", "2028-03-15")),
        (("2027-01-15", "2027-04-14", "2027-04-01"), ("2027-04-15", "2027-07-14", "2027-07-01")),
        # Not whole months: moved by the exact number of days (here 10).
        (("2027-01-10", "2027-01-19", "2027-01-15"), ("2027-01-20", "2027-01-29", "2027-01-25")),
        # No renewal date: none in the renewal either.
        (("2027-01-01", "2027-12-31", None), ("2028-01-01", "2028-12-31", None)),
    ],
)
def test_renewal_dates(period, expected):
    dates = [d(value) if value else None for value in period]
    assert renewal_dates(*dates) == tuple(d(value) if value else None for value in expected)
