"""Shared by the engine's and the windowed search's tests: zones, times, hypothesis
strategies for rules and intervals, and slots cut by hand."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from consults.scheduling.engine import Calendar, Interval, Rule, day_windows

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # a Monday, 07:00 in Hà Nội


def every_day(start: time = time(8), end: time = time(12), minutes: int = 30) -> list[Rule]:
    return [Rule(d, start, end, minutes) for d in range(7)]


def local(y: int, m: int, d: int, h: int, mi: int = 0, tz: ZoneInfo = HCM) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=tz)


ZONES = [HCM, BERLIN, ZoneInfo("America/New_York")]
# Weeks that hold a DST change in Berlin (spring, autumn) and New York, and a plain one.
BASES = [
    datetime(2026, 3, 26, tzinfo=UTC),
    datetime(2026, 10, 22, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2026, 11, 23, tzinfo=UTC),
]


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    start = draw(st.integers(0, 22 * 4)) * 15
    length = draw(st.integers(1, 10 * 4)) * 15
    end = min(start + length, 24 * 60 - 1)
    return Rule(
        weekday=draw(st.integers(0, 6)),
        start=time(start // 60, start % 60),
        end=time(end // 60, end % 60),
        slot_minutes=draw(st.sampled_from([15, 20, 30, 45, 60])),
    )


@st.composite
def intervals(draw: st.DrawFn, base: datetime) -> Interval:
    start = base + timedelta(minutes=draw(st.integers(0, 10 * 24 * 4)) * 15)
    return Interval(start, start + timedelta(minutes=draw(st.integers(1, 16)) * 15))


def overlaps(a: Interval, start: datetime, end: datetime) -> bool:
    return a.start < end and start < a.end


def rule_slots(cal: Calendar, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Every slot the rules and overrides offer from `start` to `end`, cut by hand."""
    found: set[tuple[datetime, datetime]] = set()
    day = start.astimezone(cal.tz).date() - timedelta(days=1)
    while day <= end.astimezone(cal.tz).date():
        for w_start, w_end, length in day_windows(cal, day):
            s = w_start
            while s + length <= w_end:
                found.add((s, s + length))
                s += length
        day += timedelta(days=1)
    return sorted(found)
