"""The slot engine: pure functions over plain data, no database, no Django.

free slots = weekly rules + date overrides − holidays − days off − time off
             − existing bookings (each with the buffer after it) − minimum notice,
             bounded by the booking horizon and the daily cap,
             intersected with the station room's free time.

Rules are wall-clock times in the specialist's zone; every instant the engine returns is
an aware UTC datetime. A window is cut into slots in absolute time from its local start,
so a window that spans a DST change yields slots of real length.

`windowed.search` builds on it: the earliest free slots of many specialists, reading their
bookings one time window at a time.
"""

import heapq
import itertools
from bisect import bisect_right
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from telehealth.codes import Code

# Rules, overrides and intervals are named tuples: a search reads thousands of them, and
# a tuple is built several times faster than a frozen dataclass.


class Rule(NamedTuple):
    """Every `weekday` (0 = Monday), `start`–`end` local time, cut into slots."""

    weekday: int
    start: time
    end: time
    slot_minutes: int
    valid_from: date | None = None
    valid_until: date | None = None

    def applies_on(self, day: date) -> bool:
        if day.weekday() != self.weekday:
            return False
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_until and day > self.valid_until)


class Override(NamedTuple):
    """One date: either a day off, or extra hours on top of the weekly rules."""

    day: date
    day_off: bool
    start: time | None = None
    end: time | None = None
    slot_minutes: int = 30


class Interval(NamedTuple):
    start: datetime
    end: datetime


class Busy:
    """A set of half-open intervals, merged, answering "does [s, e) touch any?" by bisection."""

    def __init__(self, intervals: Iterable[Interval] = ()) -> None:
        merged: list[list[datetime]] = []
        for iv in sorted(intervals):
            if iv.end <= iv.start:
                continue
            if merged and iv.start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], iv.end)
            else:
                merged.append([iv.start, iv.end])
        self._starts = [m[0] for m in merged]
        self._ends = [m[1] for m in merged]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.until(start, end) is not None

    def until(self, start: datetime, end: datetime) -> datetime | None:
        """The end of the first merged interval that [start, end) touches, None if none."""
        i = bisect_right(self._starts, start) - 1
        if i >= 0 and self._ends[i] > start:
            return self._ends[i]
        if i + 1 < len(self._starts) and self._starts[i + 1] < end:
            return self._ends[i + 1]
        return None

    def __len__(self) -> int:
        return len(self._starts)


NOTHING = Busy()


@dataclass
class Calendar:
    """Everything the engine needs to know about one specialist."""

    key: Hashable
    tz: ZoneInfo
    rules: Sequence[Rule]
    overrides: Sequence[Override] = ()
    time_off: Sequence[Interval] = ()
    holidays: frozenset[date] = frozenset()
    # Existing active bookings as (start, end of the buffer after them), merged or not.
    bookings: Sequence[Interval] = ()
    buffer: timedelta = timedelta(0)
    notice: timedelta = timedelta(hours=2)
    horizon: timedelta = timedelta(weeks=8)
    max_per_day: int | None = None
    # Active bookings per local day, for the daily cap. None: counted from `bookings`, which
    # must then hold every booking of each day looked at, one interval per booking.
    day_counts: Mapping[date, int] | None = None
    _prepared: tuple[Busy, Busy, Counter[date], dict[date, list[Override]]] | None = field(
        default=None, init=False, repr=False
    )
    # Time off and overrides by day, worked out once for a calendar and its copies.
    _steady: tuple[Busy, dict[date, list[Override]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _memo: "_Memo" = field(default_factory=lambda: _Memo(), init=False, repr=False, compare=False)

    def rebooked(
        self,
        *,
        bookings: Sequence[Interval],
        day_counts: Mapping[date, int] | None,
        max_per_day: int | None,
    ) -> "Calendar":
        """A copy with other bookings, day counts or cap. Shallow: it shares the memo of
        what depends on rules, overrides, holidays and zone only."""
        # Not copy.copy, which goes through __reduce_ex__ and costs several times more: a
        # search makes a copy per specialist per window.
        self._steady_parts()
        twin = object.__new__(Calendar)
        twin.__dict__.update(self.__dict__)
        twin.bookings, twin.day_counts, twin.max_per_day = bookings, day_counts, max_per_day
        twin._prepared = None
        return twin

    def _steady_parts(self) -> tuple[Busy, dict[date, list[Override]]]:
        if self._steady is None:
            per_day: dict[date, list[Override]] = {}
            for o in self.overrides:
                per_day.setdefault(o.day, []).append(o)
            self._steady = (Busy(self.time_off), per_day)
        return self._steady

    def prepared(self) -> tuple[Busy, Busy, Counter[date], dict[date, list[Override]]]:
        if self._prepared is None:
            time_off, per_day = self._steady_parts()
            counts = _NO_COUNTS  # only a daily cap needs per-day counts
            if self.max_per_day is not None:
                counts = Counter()
                if self.day_counts is not None:
                    counts.update(self.day_counts)
                else:
                    counts.update(b.start.astimezone(self.tz).date() for b in self.bookings)
            self._prepared = (Busy(self.bookings), time_off, counts, per_day)
        return self._prepared


_NO_COUNTS: Counter[date] = Counter()  # shared, never written


Window = tuple[datetime, datetime, timedelta]


@dataclass
class _Memo:
    """What depends only on a calendar's rules, overrides, holidays and zone, worked out
    once: the rules by weekday and `day_windows` by day. A copy that changes only what is
    booked shares it (`Calendar.rebooked`)."""

    weekly: dict[int, list[Rule]] | None = None
    windows: dict[date, list[Window]] = field(default_factory=dict)
    # Per day: whether no two of its windows overlap (as usual), so its slots need no sort.
    disjoint: dict[date, bool] = field(default_factory=dict)


def share_memos(calendars: Iterable[Calendar]) -> None:
    """Let calendars with the same zone, rules, overrides and holidays share one `_Memo`:
    the specialists of a specialty mostly keep the same hours, and a search of 300 of them
    over eight weeks would otherwise work out the same day's windows 300 times."""
    memos: dict[tuple[object, ...], _Memo] = {}
    for cal in calendars:
        signature = (cal.tz, tuple(cal.rules), tuple(cal.overrides), cal.holidays)
        cal._memo = memos.setdefault(signature, cal._memo)


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime
    key: Hashable = field(compare=False)


def _aware(day: date, t: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, t, tzinfo=tz).astimezone(UTC)


def day_windows(cal: Calendar, day: date) -> list[Window]:
    """The open windows of one local day as UTC (start, end, slot length), in order."""
    windows = cal._memo.windows.get(day)
    if windows is None:
        windows = cal._memo.windows[day] = _open_windows(cal, day)
    return windows


def _open_windows(cal: Calendar, day: date) -> list[Window]:
    if day in cal.holidays:
        return []
    overrides = cal.prepared()[3].get(day, [])
    if any(o.day_off for o in overrides):
        return []
    if cal._memo.weekly is None:
        cal._memo.weekly = {}
        for rule in cal.rules:
            cal._memo.weekly.setdefault(rule.weekday, []).append(rule)
    rules = cal._memo.weekly.get(day.weekday(), [])
    local = [(r.start, r.end, r.slot_minutes) for r in rules if r.applies_on(day)]
    local += [(o.start, o.end, o.slot_minutes) for o in overrides if o.start and o.end]
    windows = [
        (_aware(day, s, cal.tz), _aware(day, e, cal.tz), timedelta(minutes=m))
        for s, e, m in local
        if e > s and m > 0
    ]
    return sorted(windows)


def _day_slots(cal: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    """Every slot the rules offer on `day`, before anything is taken away, in order.

    Overlapping rules may offer the same slot twice: it is listed once."""
    found: set[tuple[datetime, datetime]] = set()
    for w_start, w_end, length in day_windows(cal, day):
        start = w_start
        while start + length <= w_end:
            found.add((start, start + length))
            start += length
    return sorted(found)


def _boundary(window_start: datetime, length: timedelta, at: datetime) -> datetime:
    """The window's first slot start at or after `at` (`at` after the window's start)."""
    return window_start + length * -((window_start - at) // length)


def _day_free(
    cal: Calendar, day: date, room_busy: Busy, earliest: datetime, latest: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The free slots of one local day that start in [earliest, latest), in order (lazy
    when the day's windows do not overlap, as usual: a search often needs only the first).

    A slot that runs into something busy skips to the first slot boundary after it: every
    slot in between runs into it too. A fully booked day costs a step per booking (fewer
    when bookings touch and merge), not one per slot."""
    windows = day_windows(cal, day)
    walks = (_window_free(cal, w, room_busy, earliest, latest) for w in windows)
    disjoint = cal._memo.disjoint.get(day)
    if disjoint is None:
        disjoint = all(a[1] <= b[0] for a, b in itertools.pairwise(windows))
        cal._memo.disjoint[day] = disjoint
    if disjoint:
        return itertools.chain.from_iterable(walks)
    # Overlapping rules may offer one slot twice: list it once.
    return iter(sorted(set(itertools.chain.from_iterable(walks))))


def _window_free(
    cal: Calendar, window: Window, room_busy: Busy, earliest: datetime, latest: datetime
) -> Iterator[tuple[datetime, datetime]]:
    bookings, time_off, _counts, _o = cal.prepared()
    w_start, w_end, length = window
    start = w_start if w_start >= earliest else _boundary(w_start, length, earliest)
    while start < latest and start + length <= w_end:
        end = start + length
        until = (
            time_off.until(start, end)
            or bookings.until(start, end + cal.buffer)
            or room_busy.until(start, end)
        )
        if until is None:
            yield start, end
            start = end
        else:
            start = _boundary(w_start, length, until)


def _blocked(cal: Calendar, start: datetime, end: datetime, room_busy: Busy) -> Code | None:
    bookings, time_off, _counts, _o = cal.prepared()
    if time_off.overlaps(start, end):
        return Code.OUTSIDE_AVAILABILITY
    if bookings.overlaps(start, end + cal.buffer):
        return Code.SLOT_TAKEN
    if room_busy.overlaps(start, end):
        return Code.ROOM_BUSY
    return None


def free_slots(
    cal: Calendar,
    *,
    now: datetime,
    start: datetime,
    end: datetime,
    room_busy: Busy = NOTHING,
) -> Iterator[Slot]:
    """Free slots of one specialist starting in [start, end), earliest first (lazy)."""
    earliest = max(start, now + cal.notice)
    latest = min(end, now + cal.horizon)
    if earliest >= latest:
        return
    counts = cal.prepared()[2]
    day = earliest.astimezone(cal.tz).date()
    last_day = latest.astimezone(cal.tz).date()
    while day <= last_day:
        taken = counts.get(day, 0)
        if cal.max_per_day is not None and taken >= cal.max_per_day:
            day += timedelta(days=1)
            continue
        for s, e in _day_free(cal, day, room_busy, earliest, latest):
            yield Slot(s, e, cal.key)
        day += timedelta(days=1)


def earliest_slots(
    calendars: Iterable[Calendar],
    *,
    now: datetime,
    start: datetime,
    end: datetime,
    room_busy: Busy = NOTHING,
    limit: int = 20,
) -> list[Slot]:
    """The `limit` earliest free slots across many specialists (merged lazily)."""
    streams = [free_slots(c, now=now, start=start, end=end, room_busy=room_busy) for c in calendars]
    return list(itertools.islice(heapq.merge(*streams), limit))


def check_booking(
    cal: Calendar,
    *,
    now: datetime,
    start: datetime,
    end: datetime,
    room_busy: Busy = NOTHING,
) -> Code | None:
    """Why [start, end) cannot be booked (an error code), or None if it can.

    Codes: too_late, beyond_horizon, closed_day, outside_availability,
    not_on_slot_boundary, daily_cap_reached, slot_taken, room_busy.
    """
    if start < now + cal.notice:
        return Code.TOO_LATE
    if start >= now + cal.horizon:
        return Code.BEYOND_HORIZON
    day = start.astimezone(cal.tz).date()
    if day in cal.holidays:
        return Code.CLOSED_DAY
    # A window never crosses local midnight, so the start's local day holds it.
    if not any(ws <= start and end <= we for ws, we, _len in day_windows(cal, day)):
        return Code.OUTSIDE_AVAILABILITY
    if (start, end) not in set(_day_slots(cal, day)):
        return Code.NOT_ON_SLOT_BOUNDARY
    if cal.max_per_day is not None and cal.prepared()[2].get(day, 0) >= cal.max_per_day:
        return Code.DAILY_CAP_REACHED
    return _blocked(cal, start, end, room_busy)
