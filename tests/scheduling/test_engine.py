"""The slot engine, over plain data: examples first, then properties (hypothesis)."""

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from consults.scheduling.engine import (
    NOTHING,
    Busy,
    Calendar,
    Interval,
    Override,
    Rule,
    check_booking,
    earliest_slots,
    free_slots,
)
from tests.scheduling.engine_data import (
    BASES,
    BERLIN,
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


def slots(cal: Calendar, days: int = 3, now: datetime = NOW, **kw: object) -> list[datetime]:
    out = free_slots(cal, now=now, start=now, end=now + timedelta(days=days), **kw)  # type: ignore[arg-type]
    return [s.start for s in out]


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
        assert not any(overlaps(b, s, e + cal.buffer) for b in cal.bookings), "overlaps a booking"
        assert not any(overlaps(t, s, e) for t in cal.time_off), "overlaps time off"
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
        for s, e in rule_slots(cal, now, end)
        if now <= s < end and check_booking(cal, now=now, start=s, end=e, room_busy=room) is None
    ]
    assert found == expected
