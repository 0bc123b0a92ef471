"""The slot engine: pure functions over plain data, no database, no Django.

free slots = weekly rules + date overrides − holidays − days off − time off
             − existing bookings (each with the buffer after it) − minimum notice,
             bounded by the booking horizon and the daily cap,
             intersected with the station room's free time.

Rules are wall-clock times in the specialist's zone; every instant the engine returns is
an aware UTC datetime. A window is cut into slots in absolute time from its local start,
so a window that spans a DST change yields slots of real length.

`search` finds the earliest free slots of many specialists while reading their bookings one
time window at a time (through a loader the caller gives), so a search reads what it needs
to fill a page, not every booking of eight weeks.
"""

import heapq
import itertools
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

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
    _memo: "_Memo" = field(default_factory=lambda: _Memo(), init=False, repr=False, compare=False)

    def prepared(self) -> tuple[Busy, Busy, Counter[date], dict[date, list[Override]]]:
        if self._prepared is None:
            per_day: dict[date, list[Override]] = {}
            for o in self.overrides:
                per_day.setdefault(o.day, []).append(o)
            counts: Counter[date] = Counter()
            if self.max_per_day is not None and self.day_counts is not None:
                counts.update(self.day_counts)
            elif self.max_per_day is not None:  # only a daily cap needs per-day counts
                counts.update(b.start.astimezone(self.tz).date() for b in self.bookings)
            self._prepared = (Busy(self.bookings), Busy(self.time_off), counts, per_day)
        return self._prepared


Window = tuple[datetime, datetime, timedelta]


@dataclass
class _Memo:
    """What depends only on a calendar's rules, overrides, holidays and zone, worked out
    once: the rules by weekday and `day_windows` by day. A copy that changes only what is
    booked shares it (`_rebooked`)."""

    weekly: dict[int, list[Rule]] | None = None
    windows: dict[date, list[Window]] = field(default_factory=dict)


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
) -> list[tuple[datetime, datetime]]:
    """The free slots of one local day that start in [earliest, latest), in order.

    A slot that runs into something busy skips to the first slot boundary after it: every
    slot in between runs into it too. A fully booked day costs a step per booking (fewer
    when bookings touch and merge), not one per slot."""
    bookings, time_off, _counts, _o = cal.prepared()
    found: set[tuple[datetime, datetime]] = set()  # overlapping rules may offer a slot twice
    for w_start, w_end, length in day_windows(cal, day):
        start = w_start if w_start >= earliest else _boundary(w_start, length, earliest)
        while start < latest and start + length <= w_end:
            end = start + length
            until = (
                time_off.until(start, end)
                or bookings.until(start, end + cal.buffer)
                or room_busy.until(start, end)
            )
            if until is None:
                found.add((start, end))
                start = end
            else:
                start = _boundary(w_start, length, until)
    return sorted(found)


def _blocked(cal: Calendar, start: datetime, end: datetime, room_busy: Busy) -> str | None:
    bookings, time_off, _counts, _o = cal.prepared()
    if time_off.overlaps(start, end):
        return "outside_availability"
    if bookings.overlaps(start, end + cal.buffer):
        return "slot_taken"
    if room_busy.overlaps(start, end):
        return "room_busy"
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


@dataclass
class Taken:
    """What `search` asks its loader for, for one window [lo, hi) and some specialists.

    bookings: per specialist, every active booking (start, end of its buffer) that
        overlaps [lo, hi); merged or not.
    day_counts: per specialist with a daily cap, the number of active bookings on every
        local day that [lo, hi) touches (a day left out counts as none).
    room: the station room's busy time overlapping [lo, hi).
    """

    bookings: Mapping[Hashable, Sequence[Interval]] = field(default_factory=dict)
    day_counts: Mapping[Hashable, Mapping[date, int]] = field(default_factory=dict)
    room: Busy = NOTHING


# load(keys, lo, hi) → what is taken in [lo, hi) for these specialists (see Taken).
Loader = Callable[[list[Hashable], datetime, datetime], Taken]
MIN_STEP = timedelta(hours=1)


def _rebooked(cal: Calendar, **changes: object) -> Calendar:
    """A copy with other bookings, day counts or cap, sharing the day windows."""
    copy = replace(cal, **changes)  # type: ignore[arg-type]
    copy._memo = cal._memo
    return copy


def _candidates(cal: Calendar) -> Calendar:
    """The calendar as if nothing were booked: its free slots are the candidates."""
    return _rebooked(cal, bookings=(), day_counts=None, max_per_day=None)


def first_window(
    calendars: Sequence[Calendar], *, now: datetime, start: datetime, end: datetime, count: int
) -> tuple[datetime, list[Hashable]]:
    """The end of the shortest window from `start` that holds `count` candidates (slots the
    rules offer, bookings and the room not yet taken away; all candidates at the instant of
    the last one included), and the keys of the calendars with candidates in it. When there
    are fewer candidates than `count` in [start, end): `end` and every key that has one."""
    streams = [free_slots(_candidates(c), now=now, start=start, end=end) for c in calendars]
    keys: set[Hashable] = set()
    last: datetime | None = None
    for n, slot in enumerate(heapq.merge(*streams)):
        if n >= count and last is not None and slot.start > last:
            return slot.start, [c.key for c in calendars if c.key in keys]
        keys.add(slot.key)
        last = slot.start
    return end, [c.key for c in calendars if c.key in keys]


def _reach(calendars: Iterable[Calendar]) -> timedelta:
    """How far past its start a slot and the buffer after it can reach."""
    longest, buffer = 0, timedelta(0)
    for cal in calendars:
        minutes = [r.slot_minutes for r in cal.rules] + [o.slot_minutes for o in cal.overrides]
        longest = max([longest, *minutes])
        buffer = max(buffer, cal.buffer)
    return timedelta(minutes=longest) + buffer


def search(
    calendars: Sequence[Calendar],
    load: Loader,
    *,
    now: datetime,
    start: datetime,
    end: datetime,
    limit: int = 20,
) -> list[Slot]:
    """The `limit` earliest free slots: the same answer as `earliest_slots` over calendars
    holding every booking, but asking `load` for bookings one window at a time.

    `calendars` bring rules, overrides, time off, holidays and policy; their bookings and
    day counts are not used. The first window is `first_window(count=limit)`: when most
    candidates are free, one small read fills the page. Each next window starts where the
    last ended and is twice as long (at least MIN_STEP), for every calendar with a
    rule or override; the search stops once `limit` slots are found. Slots of one window are all
    earlier than those of the next, so the pages concatenate in order."""
    window_end, keys = first_window(calendars, now=now, start=start, end=end, count=limit)
    every = [c.key for c in calendars if c.rules or c.overrides]
    reach = _reach(calendars)
    by_key = {c.key: c for c in calendars}
    found: list[Slot] = []
    cursor = start
    while keys and cursor < end and len(found) < limit:
        taken = load(keys, cursor, window_end + reach)
        window = [
            _rebooked(
                by_key[k],
                bookings=taken.bookings.get(k, ()),
                day_counts=taken.day_counts.get(k, {}),
            )
            for k in keys
        ]
        found += earliest_slots(
            window,
            now=now,
            start=cursor,
            end=window_end,
            room_busy=taken.room,
            limit=limit - len(found),
        )
        step = max(2 * (window_end - cursor), MIN_STEP)
        cursor, window_end, keys = window_end, min(end, window_end + step), every
    return found


def check_booking(
    cal: Calendar,
    *,
    now: datetime,
    start: datetime,
    end: datetime,
    room_busy: Busy = NOTHING,
) -> str | None:
    """Why [start, end) cannot be booked (an error code), or None if it can.

    Codes: too_late, beyond_horizon, outside_availability, not_on_slot_boundary,
    daily_cap_reached, slot_taken, room_busy.
    """
    if start < now + cal.notice:
        return "too_late"
    if start >= now + cal.horizon:
        return "beyond_horizon"
    day = start.astimezone(cal.tz).date()
    # A window never crosses local midnight, so the start's local day holds it.
    if not any(ws <= start and end <= we for ws, we, _len in day_windows(cal, day)):
        return "outside_availability"
    if (start, end) not in set(_day_slots(cal, day)):
        return "not_on_slot_boundary"
    if cal.max_per_day is not None and cal.prepared()[2].get(day, 0) >= cal.max_per_day:
        return "daily_cap_reached"
    return _blocked(cal, start, end, room_busy)
