"""A campaign's calendar: named months, eras and in-world dates that sort.

A date is (year, month, day) with the month 1-based into the calendar's months; it is stored
as one sortable number (`ordinal`) so the timeline can order and filter in SQL.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# strip_whitespace would leave a blank label empty: the pattern asks for a visible character
# (and tells the JSON Schema so). \x1c-\x1f, \x85: whitespace to str.strip, not to \s in
# every regex dialect (ECMAScript's \s leaves them out).
Label = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=60, strip_whitespace=True, pattern=r"[^\s\x1c-\x1f\x85]"
    ),
]
_DATE = re.compile(r"^(-?\d{1,6})-(\d{1,2})-(\d{1,2})$")
MAX_MONTHS, MAX_DAYS = 99, 99


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Month(Strict):
    name: Label
    days: int = Field(30, ge=1, le=MAX_DAYS)


class Era(Strict):
    name: Label
    start_year: int = Field(ge=-999_999, le=999_999)


class WorldDate(Strict):
    year: int = Field(ge=-999_999, le=999_999)
    month: int = Field(1, ge=1, le=MAX_MONTHS)
    day: int = Field(1, ge=1, le=MAX_DAYS)

    @property
    def ordinal(self) -> int:
        """Sorts like the date (months and days bounded by 99)."""
        return (self.year * 100 + self.month) * 100 + self.day

    @classmethod
    def parse(cls, text: str) -> WorldDate:
        """`YYYY-MM-DD` (year may be negative), as in the timeline's range filter."""
        match = _DATE.match(text.strip())
        if not match:
            raise ValueError(
                f"{text!r} is not an in-world date: write YEAR-MONTH-DAY, e.g. 1492-3-1"
            )
        year, month, day = (int(g) for g in match.groups())
        return cls(year=year, month=month, day=day)


def _default_months() -> list[Month]:
    names = ["Hammer", "Alturiak", "Ches", "Tarsakh", "Mirtul", "Kythorn",
             "Flamerule", "Eleasis", "Eleint", "Marpenoth", "Uktar", "Nightal"]
    return [Month(name=n) for n in names]


class Calendar(Strict):
    months: list[Month] = Field(
        default_factory=_default_months, min_length=1, max_length=MAX_MONTHS
    )
    eras: list[Era] = Field(default_factory=list, max_length=50)
    current: WorldDate | None = None

    def check(self, date: WorldDate) -> None:
        """ValueError unless the date exists in this calendar."""
        if date.month > len(self.months):
            raise ValueError(f"month {date.month} does not exist: the calendar has "
                             f"{len(self.months)} months")
        month = self.months[date.month - 1]
        if date.day > month.days:
            raise ValueError(f"{month.name} has {month.days} days, not {date.day}")

    def era_of(self, date: WorldDate) -> str | None:
        started = [e for e in self.eras if e.start_year <= date.year]
        return max(started, key=lambda e: e.start_year).name if started else None

    def describe(self, date: WorldDate) -> str:
        """`3 Ches 1492 (Dale Reckoning)`."""
        month = self.months[date.month - 1].name if date.month <= len(self.months) else date.month
        era = self.era_of(date)
        return f"{date.day} {month} {date.year}" + (f" ({era})" if era else "")
