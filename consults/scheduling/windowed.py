"""The earliest free slots of many specialists, reading bookings one window at a time.

Pure like the engine: plain data in, plain data out, and the bookings of each window come
from a loader the caller gives (`selectors.free_slots_search` reads the database; the
property tests give an in-memory one). A search reads what it needs to fill a page, not
every booking of eight weeks.
"""

import heapq
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from consults.scheduling.engine import (
    NOTHING,
    Busy,
    Calendar,
    Interval,
    Slot,
    earliest_slots,
    free_slots,
)


@dataclass
class Taken:
    """What `search` asks its loader for, for one window [lo, hi) and some specialists.

    bookings: per specialist, every active booking (start, end of its buffer) that
        overlaps [lo, hi); merged or not.
    day_counts: per specialist with a daily cap, the number of active bookings on every
        local day that [lo, hi) touches (a day left out counts as none).
    room: the station room's busy time overlapping [lo, hi) (more is harmless).
    """

    bookings: Mapping[Hashable, Sequence[Interval]] = field(default_factory=dict)
    day_counts: Mapping[Hashable, Mapping[date, int]] = field(default_factory=dict)
    room: Busy = NOTHING


# load(keys, lo, hi) → what is taken in [lo, hi) for these specialists (see Taken).
Loader = Callable[[list[Hashable], datetime, datetime], Taken]
MIN_STEP = timedelta(hours=1)


def _candidates(cal: Calendar) -> Calendar:
    """The calendar as if nothing were booked: its free slots are the candidates."""
    return cal.rebooked(bookings=(), day_counts=None, max_per_day=None)


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
            by_key[k].rebooked(
                bookings=taken.bookings.get(k, ()),
                day_counts=taken.day_counts.get(k, {}),
                max_per_day=by_key[k].max_per_day,
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
