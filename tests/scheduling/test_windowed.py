"""The windowed earliest-slot search: it returns what the full computation returns, while
asking its loader for no more than it needs."""

import itertools
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import replace
from datetime import datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from consults.scheduling.engine import Busy, Calendar, Interval, Override, Slot, earliest_slots
from consults.scheduling.windowed import Taken, first_window, search
from tests.scheduling.engine_data import (
    BASES,
    HCM,
    NOW,
    ZONES,
    every_day,
    intervals,
    local,
    overlaps,
    rule_slots,
    rules,
)


@st.composite
def overrides(draw: st.DrawFn, base: datetime) -> Override:
    day = draw(st.dates(base.date(), base.date() + timedelta(days=9)))
    if draw(st.booleans()):
        return Override(day, day_off=True)
    extra = draw(rules())
    return Override(day, False, extra.start, extra.end, extra.slot_minutes)


@st.composite
def specialists(draw: st.DrawFn, base: datetime, key: int) -> Calendar:
    """A specialist with random bookings and, above all, bookings of their own slots (with
    the buffer after each), as real days fill: slot edges are where windows go wrong."""
    cal = Calendar(
        key=key,
        tz=draw(st.sampled_from(ZONES)),
        rules=draw(st.lists(rules(), max_size=5)),
        overrides=draw(st.lists(overrides(base), max_size=2)),
        time_off=draw(st.lists(intervals(base), max_size=2)),
        holidays=frozenset(
            draw(st.lists(st.dates(base.date(), base.date() + timedelta(days=9)), max_size=1))
        ),
        bookings=draw(st.lists(intervals(base), max_size=12)),
        buffer=timedelta(minutes=draw(st.sampled_from([0, 5, 10, 15]))),
        notice=timedelta(minutes=draw(st.integers(0, 24 * 4)) * 15),
        horizon=timedelta(days=draw(st.integers(1, 10))),
        max_per_day=draw(st.none() | st.integers(1, 4)),
    )
    offered = rule_slots(cal, base, base + timedelta(days=10))
    if offered:
        taken = draw(st.lists(st.sampled_from(offered), max_size=40, unique=True))
        booked = [Interval(s, e + cal.buffer) for s, e in taken]
        cal = replace(cal, bookings=[*cal.bookings, *booked])
    return cal


Search = tuple[list[Calendar], datetime, datetime, list[Interval], int]


@st.composite
def searches(draw: st.DrawFn) -> Search:
    base = draw(st.sampled_from(BASES))
    cals = [draw(specialists(base, key)) for key in range(draw(st.integers(1, 4)))]
    now = base + timedelta(minutes=draw(st.integers(0, 24 * 60)))
    start = now + timedelta(minutes=draw(st.integers(0, 2 * 24 * 4)) * 15)
    room = draw(st.lists(intervals(base), max_size=4))
    return cals, now, start, room, draw(st.integers(1, 12))


def strict_loader(
    cals: list[Calendar], room: list[Interval], calls: list[tuple[list[Hashable], datetime]]
) -> Callable[[list[Hashable], datetime, datetime], Taken]:
    """Answers exactly what `Taken` promises and nothing more, so a search that asks for
    too short a window or too few specialists misses a booking and fails the test."""
    by_key = {c.key: c for c in cals}

    def load(keys: list[Hashable], lo: datetime, hi: datetime) -> Taken:
        calls.append((keys, lo))
        bookings, counts = {}, {}
        for key in keys:
            cal = by_key[key]
            bookings[key] = [b for b in cal.bookings if overlaps(b, lo, hi)]
            if cal.max_per_day is not None:
                first, last = lo.astimezone(cal.tz).date(), hi.astimezone(cal.tz).date()
                days = (b.start.astimezone(cal.tz).date() for b in cal.bookings)
                counts[key] = Counter(d for d in days if first <= d <= last)
        return Taken(bookings, counts, Busy(r for r in room if overlaps(r, lo, hi)))

    return load


def _keyed(found: list[Slot]) -> list[tuple[Hashable, datetime, datetime]]:
    return [(s.key, s.start, s.end) for s in found]


@settings(max_examples=300, deadline=None)
@given(searches())
def test_property_the_windowed_search_returns_the_first_n_of_the_full_computation(
    case: Search,
) -> None:
    cals, now, start, room, limit = case
    end = now + timedelta(days=10)
    full = earliest_slots(cals, now=now, start=start, end=end, room_busy=Busy(room), limit=limit)
    calls: list[tuple[list[Hashable], datetime]] = []
    load = strict_loader(cals, room, calls)
    found = search(cals, load, now=now, start=start, end=end, limit=limit)
    assert _keyed(found) == _keyed(full)
    assert [lo for _keys, lo in calls] == sorted({lo for _keys, lo in calls}), "windows move on"


@settings(max_examples=200, deadline=None)
@given(searches())
def test_property_the_first_window_holds_enough_candidates_and_no_more_than_it_must(
    case: Search,
) -> None:
    cals, now, start, _room, limit = case
    end = now + timedelta(days=10)
    window_end, keys = first_window(cals, now=now, start=start, end=end, count=limit)
    open_ = [Calendar(c.key, c.tz, c.rules, c.overrides, c.time_off, c.holidays) for c in cals]
    for c, o in zip(cals, open_, strict=True):
        o.notice, o.horizon = c.notice, c.horizon
    candidates = list(earliest_slots(open_, now=now, start=start, end=end, limit=10_000))
    inside = [s for s in candidates if s.start < window_end]
    assert sorted({s.key for s in inside}, key=str) == sorted(keys, key=str)
    if window_end < end:
        assert len(inside) >= limit
        # Cut just after an instant that holds the limit-th candidate, not later.
        assert window_end == min(s.start for s in candidates if s.start > inside[limit - 1].start)
    else:
        assert len(candidates) == len(inside)


def test_a_search_whose_first_candidates_are_free_reads_one_small_window() -> None:
    cals = [
        Calendar(key=k, tz=HCM, rules=every_day(time(8), time(17)), notice=timedelta(0))
        for k in ("a", "b", "c")
    ]
    calls: list[tuple[list[Hashable], datetime]] = []
    end = NOW + timedelta(weeks=8)
    found = search(cals, strict_loader(cals, [], calls), now=NOW, start=NOW, end=end, limit=4)
    # 08:00 in Hà Nội is 01:00 UTC: three candidates at 08:00, the fourth at 08:30.
    assert [(s.key, s.start.astimezone(HCM).strftime("%H:%M")) for s in found] == [
        ("a", "08:00"),
        ("b", "08:00"),
        ("c", "08:00"),
        ("a", "08:30"),
    ]
    assert len(calls) == 1


def test_a_search_moves_on_in_growing_windows_past_fully_booked_days() -> None:
    days = [timedelta(days=d) for d in range(5)]  # Monday to Friday fully booked
    cals = [
        Calendar(
            key=k,
            tz=HCM,
            rules=every_day(time(8), time(17)),
            notice=timedelta(0),
            bookings=[
                Interval(local(2026, 11, 23, 8) + d, local(2026, 11, 23, 17) + d) for d in days
            ],
        )
        for k in ("a", "b")
    ]
    calls: list[tuple[list[Hashable], datetime]] = []
    end = NOW + timedelta(weeks=8)
    found = search(cals, strict_loader(cals, [], calls), now=NOW, start=NOW, end=end, limit=2)
    assert [(s.key, s.start) for s in found] == [
        ("a", local(2026, 11, 28, 8)),
        ("b", local(2026, 11, 28, 8)),
    ]
    steps = [b - a for (_k1, a), (_k2, b) in itertools.pairwise(calls)]
    assert len(steps) >= 3
    assert all(later >= 2 * earlier for earlier, later in itertools.pairwise(steps))
