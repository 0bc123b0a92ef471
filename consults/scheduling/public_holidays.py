"""Vietnam's national public holidays, for any year, from the `holidays` package.

The Labour Code 2019 (art. 112) gives the days; Tết Nguyên Đán and Giỗ Tổ Hùng Vương
follow the lunar calendar, so their solar dates move every year, and a holiday on a
weekend gives a substitute day (nghỉ bù). The package computes the lunar dates for any
year, knows the substitute days and the government's announced swaps for past and
current years, and names the days in Vietnamese. A day it does not know yet (a swap
announced late) is a `Holiday` row without facility, added in the admin.
"""

from datetime import date
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _year(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("VN", years=year, language="vi"))


def national_holidays(lo: date, hi: date) -> dict[date, str]:
    """The national holidays from `lo` to `hi` (both included), with their Vietnamese names."""
    return {
        day: name
        for year in range(lo.year, hi.year + 1)
        for day, name in _year(year).items()
        if lo <= day <= hi
    }


def is_national_holiday(day: date) -> bool:
    return day in _year(day.year)
