"""Dates and times as the pages write them: dd/mm/yyyy and 24-hour hh:mm.

The pages use plain text inputs, not the browser's date and time pickers: those follow
the browser's locale, and many station PCs run an English browser that would show
mm/dd/yyyy and AM/PM (05/09 is a different birthday in each). ISO dates are accepted too,
for old links and scripts.
"""

import re
from datetime import date, datetime, time

from django.utils import timezone
from django.utils.translation import gettext as _

from telehealth.codes import Code
from telehealth.errors import AppError

DAY_FORMAT = "dd/mm/yyyy"
_DAY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_CLOCK = re.compile(r"^\s*(\d{1,2})[:hH](\d{2})\s*$")


def parse_day(raw: str | None) -> date | None:
    """'05/09/2019' (or '2019-09-05') → date; None when empty or not a real day."""
    raw = raw or ""
    if match := _DAY.match(raw):
        d, m, y = (int(g) for g in match.groups())
    elif match := _ISO_DAY.match(raw):
        y, m, d = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def day_error(raw: str | None) -> str:
    """Why parse_day refused `raw`: written as a day but no real one (31/02/1990), or not
    written as a day at all."""
    if _DAY.match(raw or "") or _ISO_DAY.match(raw or ""):
        return _("This is not a real date: check the day and the month (dd/mm/yyyy).")
    return _("Enter the date as dd/mm/yyyy, e.g. 05/09/2019.")


def parse_clock(raw: str | None) -> time | None:
    """'8:00', '08:00' or '8h00' (24-hour) → time; None when empty or out of range."""
    match = _CLOCK.match(raw or "")
    if match is None:
        return None
    hour, minute = (int(g) for g in match.groups())
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def require_day(raw: str | None) -> date:
    day = parse_day(raw)
    if day is None:
        raise AppError(Code.INVALID, _("Enter the date as dd/mm/yyyy, e.g. 05/09/2019."))
    return day


def require_clock(raw: str | None) -> time:
    clock = parse_clock(raw)
    if clock is None:
        raise AppError(Code.INVALID, _("Enter the time as hh:mm on the 24-hour clock, e.g. 13:30."))
    return clock


def require_moment(day_raw: str | None, clock_raw: str | None) -> datetime:
    """A day and a wall-clock time in the current (facility's) zone, as an aware datetime."""
    return timezone.make_aware(datetime.combine(require_day(day_raw), require_clock(clock_raw)))
