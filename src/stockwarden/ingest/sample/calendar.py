"""The sample company's calendar: Chinese and Western holidays and shopping festivals.

Each :class:`Holiday` yields its dates per year (lunar holidays from a table, 2019-2031), the rows it
puts in the ``events`` table, and two intensity curves over the simulated days that the demand model
multiplies in: a *pre* window (buying ahead: mooncakes before Mid-Autumn, gifts before Christmas)
ramping up to the day, and an *on* window (the holiday itself: a slump in Spring Festival week, the
peak of Double 11).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

# Lunar holidays (Gregorian date of the day itself). Years outside the table simply have no such event.
_SPRING_FESTIVAL = {
    2019: "02-05",
    2020: "01-25",
    2021: "02-12",
    2022: "02-01",
    2023: "01-22",
    2024: "02-10",
    2025: "01-29",
    2026: "02-17",
    2027: "02-06",
    2028: "01-26",
    2029: "02-13",
    2030: "02-03",
    2031: "01-23",
}
_MID_AUTUMN = {
    2019: "09-13",
    2020: "10-01",
    2021: "09-21",
    2022: "09-10",
    2023: "09-29",
    2024: "09-17",
    2025: "10-06",
    2026: "09-25",
    2027: "09-15",
    2028: "10-03",
    2029: "09-22",
    2030: "09-12",
    2031: "10-01",
}
_DRAGON_BOAT = {
    2019: "06-07",
    2020: "06-25",
    2021: "06-14",
    2022: "06-03",
    2023: "06-22",
    2024: "06-10",
    2025: "05-31",
    2026: "06-19",
    2027: "06-09",
    2028: "05-28",
    2029: "06-16",
    2030: "06-05",
    2031: "06-24",
}


def _lunar(table: dict[int, str]) -> Callable[[int], date | None]:
    def at(year: int) -> date | None:
        md = table.get(year)
        return date.fromisoformat(f"{year}-{md}") if md else None

    return at


def _fixed(month: int, day: int) -> Callable[[int], date | None]:
    return lambda year: date(year, month, day)


def _black_friday(year: int) -> date:
    first = date(year, 11, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(days=22)  # the day after the fourth Thursday


@dataclass(frozen=True, slots=True)
class Holiday:
    """A recurring event of the sample calendar.

    Attributes:
        key: stable identifier used by the category effects.
        name: the name written to ``events.csv``.
        kind: ``holiday``, ``shopping_festival`` or ``cultural``.
        day_of: the event's (first) date in a year, or None when unknown for that year.
        span_days: days it lasts (one ``events`` row per day).
        pre_days: length of the buying-ahead window before it (0 = none).
    """

    key: str
    name: str
    kind: str
    day_of: Callable[[int], date | None]
    span_days: int = 1
    pre_days: int = 0


HOLIDAYS: tuple[Holiday, ...] = (
    Holiday("new_year", "New Year's Day", "holiday", _fixed(1, 1)),
    Holiday("spring_festival", "Spring Festival", "holiday", _lunar(_SPRING_FESTIVAL), span_days=7, pre_days=18),
    Holiday("valentines", "Valentine's Day", "cultural", _fixed(2, 14), pre_days=7),
    Holiday("womens_day", "Women's Day", "shopping_festival", _fixed(3, 8), pre_days=5),
    Holiday("labour_day", "Labour Day", "holiday", _fixed(5, 1), span_days=5, pre_days=3),
    Holiday("childrens_day", "Children's Day", "cultural", _fixed(6, 1), pre_days=10),
    Holiday("dragon_boat", "Dragon Boat Festival", "holiday", _lunar(_DRAGON_BOAT), pre_days=7),
    Holiday("618", "618 Shopping Festival", "shopping_festival", _fixed(6, 18), pre_days=17),
    Holiday("mid_autumn", "Mid-Autumn Festival", "holiday", _lunar(_MID_AUTUMN), pre_days=14),
    Holiday("national_day", "National Day", "holiday", _fixed(10, 1), span_days=7, pre_days=5),
    Holiday("double_11", "Double 11", "shopping_festival", _fixed(11, 11), pre_days=10),
    Holiday("black_friday", "Black Friday", "shopping_festival", _black_friday, span_days=4, pre_days=3),
    Holiday("double_12", "Double 12", "shopping_festival", _fixed(12, 12), pre_days=3),
    Holiday("christmas", "Christmas", "holiday", _fixed(12, 25), pre_days=24),
)

HOLIDAY_KEYS: tuple[str, ...] = tuple(h.key for h in HOLIDAYS)


def holiday_dates(holiday: Holiday, first: date, last: date) -> list[date]:
    """The first day of every occurrence of ``holiday`` whose window touches [first, last]."""
    out = []
    for year in range(first.year - 1, last.year + 2):
        d = holiday.day_of(year)
        if d is None:
            continue
        if d - timedelta(days=holiday.pre_days) <= last and d + timedelta(days=holiday.span_days) >= first:
            out.append(d)
    return out


def build_events(first: date, last: date) -> pd.DataFrame:
    """The ``events`` table: one row per holiday day in [first, last] (location empty = everywhere)."""
    rows = []
    for h in HOLIDAYS:
        for d in holiday_dates(h, first, last):
            for k in range(h.span_days):
                day = d + timedelta(days=k)
                if first <= day <= last:
                    rows.append((pd.Timestamp(day), h.name, h.kind, ""))
    frame = pd.DataFrame(rows, columns=["date", "name", "kind", "location_id"])
    return frame.sort_values(["date", "name"]).reset_index(drop=True)


def holiday_intensity(dates: pd.DatetimeIndex) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per holiday key, the (pre, on) intensity curves over ``dates``, each in [0, 1].

    ``pre`` ramps linearly from 0 to 1 over the buying-ahead window and is 0 elsewhere; ``on`` is 1
    on the holiday's days.
    """
    first, last = dates[0].date(), dates[-1].date()
    origin = dates[0]
    n = len(dates)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for h in HOLIDAYS:
        pre = np.zeros(n)
        on = np.zeros(n)
        for d in holiday_dates(h, first, last):
            i0 = (pd.Timestamp(d) - origin).days
            if h.pre_days:
                idx = np.arange(i0 - h.pre_days, i0)
                ramp = np.arange(1, h.pre_days + 1) / h.pre_days
                ok = (idx >= 0) & (idx < n)
                pre[idx[ok]] = np.maximum(pre[idx[ok]], ramp[ok])
            idx = np.arange(i0, i0 + h.span_days)
            ok = (idx >= 0) & (idx < n)
            on[idx[ok]] = 1.0
        out[h.key] = (pre, on)
    return out


def spring_festival_days(first: date, last: date) -> list[date]:
    """Spring Festival days in [first, last] (suppliers shut down around them)."""
    sf = next(h for h in HOLIDAYS if h.key == "spring_festival")
    return holiday_dates(sf, first, last)
