"""Dates as the SLA reads them: the formats typed or imported, months on the calendar, and
the next period of a renewal."""

import calendar
import datetime

# What a date field and a CSV report accept: 31.12.2027, 31.12.27 and 2027-12-31. The SLA
# is Swiss whatever the interface language, so the day comes first.
DATE_INPUT_FORMATS = ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d")


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` moved by ``months``, on the month's last day where the day does not exist.

    31.01. + 1 month is 28.02. (29.02. in a leap year); 29.02.2028 + 12 months is 28.02.2029.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def parse_date(text: str) -> datetime.date | None:
    """The date in ``text`` in one of ``DATE_INPUT_FORMATS``, or None."""
    value = text.strip()
    for pattern in DATE_INPUT_FORMATS:
        try:
            return datetime.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def renewal_dates(
    start: datetime.date | None, end: datetime.date | None, renewal: datetime.date | None
) -> tuple[datetime.date | None, datetime.date | None, datetime.date | None]:
    """The next period's start, end and renewal date: moved on by the period's length.

    A period of whole months (01.01.2027–31.12.2027, 15.03.–14.06.) moves by months, so
    a year stays a year across 29 February and the renewal date keeps its day of the
    month (01.12.2027 -> 01.12.2028; 29.02.2028 -> 28.02.2029). Any other period moves
    by its exact number of days. Without a complete period nothing moves.
    """
    if start is None or end is None:
        return start, end, renewal
    following = end + datetime.timedelta(days=1)
    months = (following.year - start.year) * 12 + following.month - start.month
    if following.day == start.day and months > 0:
        return (
            following,
            add_months(following, months) - datetime.timedelta(days=1),
            add_months(renewal, months) if renewal else None,
        )
    span = following - start
    return following, end + span, renewal + span if renewal else None
