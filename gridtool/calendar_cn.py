"""China's working-day calendar: deadlines in working days, overdue days.

Working days follow the State Council's yearly holiday notice, official holidays and
make-up working days (调休) included, as maintained by the ``chinese_calendar``
package. For a year that package does not know yet, the calendar falls back to
"Monday–Friday are working days" and warns once per year, so a deadline is still
given (and may be off by the holidays of that year) rather than refused.
"""
from __future__ import annotations

import datetime as dt
import functools
import warnings

import chinese_calendar

__all__ = ["is_workday", "add_working_days", "working_days_between", "CalendarFallbackWarning"]


class CalendarFallbackWarning(UserWarning):
    """The holiday table has no data for a year; weekends only were used."""


_warned_years: set[int] = set()


@functools.lru_cache(maxsize=8192)
def is_workday(day: dt.date) -> bool:
    """True if ``day`` is a working day in mainland China.

    Parameters
    ----------
    day
        The calendar day (a :class:`datetime.datetime` is reduced to its date).

    Notes
    -----
    Years outside the package's table fall back to Monday–Friday with a
    :class:`CalendarFallbackWarning` (once per year and process). Upgrade
    ``chinese-calendar`` when the State Council publishes the next year's notice.
    """
    if isinstance(day, dt.datetime):
        day = day.date()
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            warnings.warn(
                f"the holiday table of chinese-calendar {chinese_calendar.__version__} has no data for "
                f"{day.year}; working days of {day.year} are counted as Monday-Friday without official "
                "holidays. Upgrade it with 'pip install -U chinese-calendar'.",
                CalendarFallbackWarning,
                stacklevel=2,
            )
        return day.weekday() < 5


@functools.lru_cache(maxsize=8192)
def add_working_days(start: dt.date, days: int) -> dt.date:
    """Return the ``days``-th working day after ``start`` (``start`` itself never counts).

    Parameters
    ----------
    start
        The day the period starts (e.g. the day a finding was found).
    days
        Working days allowed, ``>= 0``; with 0 the deadline is ``start`` itself.

    Examples
    --------
    Friday 2026-01-02 falls in the New Year holiday and Sunday 2026-01-04 is a make-up
    working day, so one working day after Wednesday 2025-12-31 is 2026-01-04.
    """
    if days < 0:
        raise ValueError(f"`days` must be >= 0; got {days}")
    day = start
    left = days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Count working days ``d`` with ``start < d <= end`` (0 when ``end <= start``).

    Used for overdue days: a finding due on ``deadline`` and still open on ``today`` is
    ``working_days_between(deadline, today)`` working days overdue.
    """
    if end <= start:
        return 0
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_workday(day):
            count += 1
    return count
