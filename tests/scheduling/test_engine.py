"""The slot engine, over plain data: examples first, then properties (hypothesis)."""

import itertools
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from consults.scheduling.engine import (
    NOTHING,
    Busy,
    Calendar,
    Interval,
    Override,
    Rule,
    Slot,
    Taken,
    check_booking,
    day_windows,
    earliest_slots,
    first_window,
    free_slots,
    search,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # a Monday, 07:00 in Hà Nội


def every_day(start: time = time(8), end: time = time(12), minutes: int = 30) -> list[Rule]:
    return [Rule(d, start, end, minutes) for d in range(7)]


def slots(cal: Calendar, days: int = 3, now: datetime = NOW, **kw: object) -> list[datetime]:
    out = free_slots(cal, now=now, start=now, end=now + timedelta(days=days), **kw)  # type: ignore[arg-type]
    return [s.start for s in out]


def local(y: int, m: int, d: int, h: int, mi: int = 0, tz: ZoneInfo = HCM) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=tz)


def test_it_cuts_rule_hours_into_slots_in_the_specialists_zone() -> None:
    cal = Calendar(key=1, tz=HCM, rules=[Rule(0, time(8), time(9, 30), 30)], notice=timedelta(0))
    assert slots(cal, days=1) == [
        local(2026, 11, 23, 8),
        local(2026, 11, 23, 8, 30),
        local(2026, 11, 23, 9),
    ]


def test_it_leaves_out_bookings_and_the_buffer_after_them() -> None:
    booked = Interval(local(2026, 11, 23, 8, 30), local(2026, 11, 23, 9, 10))  # 8:30–9:00 + 10 min
    cal = Calendar(
        key=1,
        tz=HCM,
        rules=[Rule(0, time(8), time(10), 30)],
        bookings=[booked],
        buffer=timedelta(minutes=10),
        notice=timedelta(0),
    )
    # 8:00 would run into the 8:30 consult with its own buffer; 9:00 into the 9:10 buffer end.
    assert slots(cal, days=1) == [local(2026, 11, 23, 9, 30)]


def test_it_leaves_out_holidays_days_off_and_time_off() -> None:
    cal = Calendar(
        key=1,
        tz=HCM,
        rules=every_day(time(8), time(9), 60),
        holidays=frozenset({date(2026, 11, 24)}),
        overrides=[Override(date(2026, 11, 25), day_off=True)],
        time_off=[Interval(local(2026, 11, 26, 0), local(2026, 11, 27, 0))],
        notice=timedelta(0),
    )
    assert slots(cal, days=5) == [local(2026, 11, 23, 8), local(2026, 11, 27, 8)]


def test_it_adds_the_extra_hours_of_an_override() -> None:
    cal = Calendar(
        key=1,
        tz=HCM,
        rules=[],
        overrides=[Override(date(2026, 11, 24), False, time(14), time(15), 30)],
        notice=timedelta(0),
    )
    assert slots(cal) == [local(2026, 11, 24, 14), local(2026, 11, 24, 14, 30)]


def test_it_respects_notice_horizon_and_daily_cap() -> None:
    cal = Calendar(
        key=1,
        tz=HCM,
        rules=every_day(time(8), time(10), 60),
        notice=timedelta(hours=2),  # now is 07:00 local: 08:00 is too soon
        horizon=timedelta(days=2),
        max_per_day=1,
        bookings=[Interval(local(2026, 11, 24, 9), local(2026, 11, 24, 10))],
    )
    assert slots(cal, days=5) == [local(2026, 11, 23, 9)]


def test_it_needs_the_station_room_free_too() -> None:
    cal = Calendar(key=1, tz=HCM, rules=[Rule(0, time(8), time(10), 60)], notice=timedelta(0))
    room = Busy([Interval(local(2026, 11, 23, 8, 30), local(2026, 11, 23, 8, 45))])
    assert slots(cal, days=1, room_busy=room) == [local(2026, 11, 23, 9)]


def test_it_merges_many_specialists_earliest_first() -> None:
    a = Calendar(key="a", tz=HCM, rules=[Rule(1, time(8), time(9), 30)], notice=timedelta(0))
    b = Calendar(key="b", tz=HCM, rules=[Rule(0, time(15), time(16), 30)], notice=timedelta(0))
    found = earliest_slots([a, b], now=NOW, start=NOW, end=NOW + timedelta(days=7), limit=3)
    assert [(s.key, s.start) for s in found] == [
        ("b", local(2026, 11, 23, 15)),
        ("b", local(2026, 11, 23, 15, 30)),
        ("a", local(2026, 11, 24, 8)),
    ]


def test_a_weekly_berlin_slot_keeps_its_local_time_across_the_dst_change() -> None:
    now = datetime(2026, 3, 20, tzinfo=UTC)
    cal = Calendar(key=1, tz=BERLIN, rules=[Rule(0, time(9), time(10), 60)], notice=timedelta(0))
    found = slots(cal, days=14, now=now)
    # Monday 23 March 09:00 CET is 08:00 UTC; Monday 30 March 09:00 CEST is 07:00 UTC.
    assert found == [
        datetime(2026, 3, 23, 8, tzinfo=UTC),
        datetime(2026, 3, 30, 7, tzinfo=UTC),
    ]
    assert [s.astimezone(BERLIN).hour for s in found] == [9, 9]


def test_a_window_over_the_spring_gap_yields_slots_of_real_length() -> None:
    # Sunday 29 March 2026 Berlin skips 02:00–03:00: 01:00–05:00 local is three real hours.
    now = datetime(2026, 3, 28, tzinfo=UTC)
    cal = Calendar(key=1, tz=BERLIN, rules=[Rule(6, time(1), time(5), 60)], notice=timedelta(0))
    found = free_slots(cal, now=now, start=now, end=now + timedelta(days=2))
    assert [(s.start.hour, s.end - s.start) for s in found] == [
        (0, timedelta(hours=1)),
        (1, timedelta(hours=1)),
        (2, timedelta(hours=1)),
    ]


def test_a_window_over_the_autumn_repeat_yields_slots_of_real_length() -> None:
    # Sunday 25 October 2026 Berlin repeats 02:00–03:00: 01:00–04:00 local is four real hours.
    now = datetime(2026, 10, 24, tzinfo=UTC)
    cal = Calendar(key=1, tz=BERLIN, rules=[Rule(6, time(1), time(4), 60)], notice=timedelta(0))
    found = list(free_slots(cal, now=now, start=now, end=now + timedelta(days=2)))
    assert len(found) == 4
    assert all(s.end - s.start == timedelta(hours=1) for s in found)


def test_check_booking_names_what_is_wrong() -> None:
    cal = Calendar(
        key=1,
        tz=HCM,
        rules=[Rule(0, time(9), time(11), 30)],
        bookings=[Interval(local(2026, 11, 23, 10), local(2026, 11, 23, 10, 30))],
        notice=timedelta(hours=1),
        horizon=timedelta(days=7),
    )

    def check(start: datetime, minutes: int = 30, room: Busy = NOTHING) -> str | None:
        end = start + timedelta(minutes=minutes)
        return check_booking(cal, now=NOW, start=start, end=end, room_busy=room)

    assert check(local(2026, 11, 23, 9)) is None
    assert check(local(2026, 11, 23, 7, 30)) == "too_late"
    assert check(local(2026, 12, 7, 9)) == "beyond_horizon"
    assert check(local(2026, 11, 23, 12)) == "outside_availability"
    assert check(local(2026, 11, 23, 9, 10)) == "not_on_slot_boundary"
    assert check(local(2026, 11, 23, 9), minutes=60) == "not_on_slot_boundary"
    assert check(local(2026, 11, 23, 10)) == "slot_taken"
    room = Busy([Interval(local(2026, 11, 23, 9), local(2026, 11, 23, 9, 15))])
    assert check(local(2026, 11, 23, 9), room=room) == "room_busy"


# --- properties ------------------------------------------------------------------------

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


@st.composite
def situations(draw: st.DrawFn) -> tuple[Calendar, datetime, Busy]:
    base = draw(st.sampled_from(BASES))
    tz = draw(st.sampled_from(ZONES))
    cal = Calendar(
        key=1,
        tz=tz,
        rules=draw(st.lists(rules(), max_size=6)),
        time_off=draw(st.lists(intervals(base), max_size=3)),
        holidays=frozenset(
            draw(st.lists(st.dates(base.date(), base.date() + timedelta(days=9)), max_size=2))
        ),
        bookings=draw(st.lists(intervals(base), max_size=8)),
        buffer=timedelta(minutes=draw(st.sampled_from([0, 5, 10, 15]))),
        notice=timedelta(minutes=draw(st.integers(0, 48 * 4)) * 15),
        horizon=timedelta(days=draw(st.integers(1, 9))),
        max_per_day=draw(st.none() | st.integers(1, 4)),
    )
    now = base + timedelta(minutes=draw(st.integers(0, 24 * 60)))
    room = Busy(draw(st.lists(intervals(base), max_size=4)))
    return cal, now, room


def _overlaps(a: Interval, start: datetime, end: datetime) -> bool:
    return a.start < end and start < a.end


@settings(max_examples=300, deadline=None)
@given(situations())
def test_property_every_slot_is_free_and_inside_a_rule(
    situation: tuple[Calendar, datetime, Busy],
) -> None:
    cal, now, room = situation
    found = list(free_slots(cal, now=now, start=now, end=now + timedelta(days=10), room_busy=room))
    per_day: dict[date, int] = {}
    for b in cal.bookings:
        day = b.start.astimezone(cal.tz).date()
        per_day[day] = per_day.get(day, 0) + 1
    for slot in found:
        s, e = slot.start, slot.end
        day = s.astimezone(cal.tz).date()
        assert not any(_overlaps(b, s, e + cal.buffer) for b in cal.bookings), "overlaps a booking"
        assert not any(_overlaps(t, s, e) for t in cal.time_off), "overlaps time off"
        assert not room.overlaps(s, e), "the station room is taken"
        assert day not in cal.holidays, "on a holiday"
        assert any(
            r.applies_on(day)
            and datetime.combine(day, r.start, tzinfo=cal.tz) <= s
            and e <= datetime.combine(day, r.end, tzinfo=cal.tz)
            and e - s == timedelta(minutes=r.slot_minutes)
            for r in cal.rules
        ), "not inside a rule"
        assert s >= now + cal.notice, "inside the minimum notice"
        assert s < now + cal.horizon, "beyond the horizon"
        if cal.max_per_day is not None:
            assert per_day.get(day, 0) < cal.max_per_day, "the day is full"
        assert check_booking(cal, now=now, start=s, end=e, room_busy=room) is None
    assert [s.start for s in found] == sorted(s.start for s in found)


@settings(max_examples=200, deadline=None)
@given(situations(), st.lists(st.integers(0, 10 * 24 * 12), min_size=1, max_size=20))
def test_property_what_check_booking_accepts_is_an_offered_slot(
    situation: tuple[Calendar, datetime, Busy], offsets: list[int]
) -> None:
    cal, now, room = situation
    offered = {
        (s.start, s.end)
        for s in free_slots(cal, now=now, start=now, end=now + timedelta(days=11), room_busy=room)
    }
    base = now.replace(minute=0, second=0, microsecond=0)
    for offset in offsets:
        start = base + timedelta(minutes=5 * offset)
        for minutes in (15, 20, 30, 45, 60):
            end = start + timedelta(minutes=minutes)
            if check_booking(cal, now=now, start=start, end=end, room_busy=room) is None:
                assert (start, end) in offered


def _rule_slots(cal: Calendar, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
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


@settings(max_examples=300, deadline=None)
@given(situations())
def test_property_free_slots_are_exactly_the_offered_slots_check_booking_accepts(
    situation: tuple[Calendar, datetime, Busy],
) -> None:
    cal, now, room = situation
    end = now + timedelta(days=10)
    found = [(s.start, s.end) for s in free_slots(cal, now=now, start=now, end=end, room_busy=room)]
    expected = [
        (s, e)
        for s, e in _rule_slots(cal, now, end)
        if now <= s < end and check_booking(cal, now=now, start=s, end=e, room_busy=room) is None
    ]
    assert found == expected


# --- the windowed search ------------------------------------------------------------------


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
    offered = _rule_slots(cal, base, base + timedelta(days=10))
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
            bookings[key] = [b for b in cal.bookings if _overlaps(b, lo, hi)]
            if cal.max_per_day is not None:
                first, last = lo.astimezone(cal.tz).date(), hi.astimezone(cal.tz).date()
                days = (b.start.astimezone(cal.tz).date() for b in cal.bookings)
                counts[key] = Counter(d for d in days if first <= d <= last)
        return Taken(bookings, counts, Busy(r for r in room if _overlaps(r, lo, hi)))

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
