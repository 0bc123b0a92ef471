"""The slot search as the database serves it (`selectors.free_slots_search`: windows, busy
runs merged by SQL — range_agg on PostgreSQL, window functions on SQLite —, day counts,
the room read once) gives the answer of a brute force that checks every slot the rules
offer against every booking, time off, room booking and daily cap, one by one."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinics.models import Membership
from consults.lifecycle import ACTIVE_STATUSES
from consults.models import Consultation
from consults.scheduling import selectors
from consults.scheduling.engine import Calendar, Interval, Override, Rule
from consults.scheduling.models import (
    AvailabilityOverride,
    AvailabilityRule,
    Holiday,
    SpecialistSchedule,
    TimeOff,
)
from consults.scheduling.public_holidays import national_holidays
from tests import factories
from tests.conftest import Cast, vendor
from tests.scheduling.engine_data import BASES, ZONES, intervals, rule_slots, rules

pytestmark = pytest.mark.django_db
S = Consultation.Status
STATUSES = [S.BOOKED, S.BOOKED, S.CHECKED_IN, S.INTERRUPTED, S.CANCELLED, S.COMPLETED]
DAYS = 10


@dataclass
class Booking:
    start: datetime
    end: datetime
    buffer_end: datetime | None
    status: str
    in_room: bool
    patient: int


@dataclass
class Specialist:
    calendar: Calendar  # rules, overrides, time off and policy, as the brute force reads them
    bookings: list[Booking]


@dataclass
class World:
    base: datetime
    specialists: list[Specialist]
    others_in_room: list[Interval]  # the room's consults with a specialist not searched
    holiday: date | None  # a national `Holiday` row, on top of the computed ones
    closure: tuple[str, date] | None  # a closure of the station, the hospital or another
    now: datetime
    start: datetime
    limit: int


@st.composite
def specialists(draw: st.DrawFn, base: datetime) -> Specialist:
    days = st.dates(base.date(), base.date() + timedelta(days=DAYS - 1))
    overrides = []
    for day in draw(st.lists(days, max_size=2, unique=True)):
        if draw(st.booleans()):
            overrides.append(Override(day, True))
        else:
            extra = draw(rules())
            overrides.append(Override(day, False, extra.start, extra.end, extra.slot_minutes))
    buffer = timedelta(minutes=draw(st.sampled_from([0, 0, 5, 15])))
    cal = Calendar(
        key=None,
        tz=draw(st.sampled_from(ZONES)),
        rules=draw(st.lists(rules(), min_size=1, max_size=5)),
        overrides=overrides,
        time_off=draw(st.lists(intervals(base), max_size=2)),
        buffer=buffer,
        notice=timedelta(minutes=draw(st.integers(0, 24 * 4)) * 15),
        horizon=timedelta(days=draw(st.integers(2, DAYS))),
        max_per_day=draw(st.none() | st.integers(1, 4)),
    )
    # Mostly the specialist's own slots: often every one of the first days, as in a crowded
    # specialty (the search must then move on window after window), some here and there
    # (where runs merge and windows meet), a few anywhere.
    offered = rule_slots(cal, base, base + timedelta(days=DAYS))
    spans = [Interval(*s) for s in offered[: draw(st.integers(0, 60))]]
    if offered:
        spans += [Interval(*s) for s in draw(st.lists(st.sampled_from(offered), max_size=20))]
    spans += draw(st.lists(intervals(base), max_size=4))
    bookings = [
        Booking(
            start,
            end,
            end + buffer if buffer and draw(st.booleans()) else None,
            draw(st.sampled_from(STATUSES)),
            draw(st.booleans()),
            draw(st.integers(0, 2)),
        )
        for start, end in spans
    ]
    return Specialist(cal, bookings)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    base = draw(st.sampled_from(BASES))
    now = base + timedelta(minutes=draw(st.integers(0, 24 * 4)) * 15)
    return World(
        base=base,
        specialists=[draw(specialists(base)) for _ in range(draw(st.integers(1, 3)))],
        others_in_room=draw(st.lists(intervals(base), max_size=3)),
        holiday=draw(st.none() | st.dates(base.date(), base.date() + timedelta(days=DAYS))),
        closure=draw(
            st.none()
            | st.tuples(
                st.sampled_from(["station", "hospital", "hospital2"]),
                st.dates(base.date(), base.date() + timedelta(days=DAYS)),
            )
        ),
        now=now,
        start=now + timedelta(minutes=draw(st.integers(0, 2 * 24 * 4)) * 15),
        limit=draw(st.integers(1, 25)),
    )


def _overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def _reach(b: Booking) -> datetime:
    return b.buffer_end or b.end


def _storable(world: World) -> None:
    """Drops the active bookings that the database's own rules refuse: two of one
    specialist whose reaches overlap, two in the room or of one patient that overlap."""
    room: list[Interval] = []
    for r in world.others_in_room:
        if not any(_overlap(*r, *kept) for kept in room):
            room.append(r)
    world.others_in_room = list(room)
    patients: dict[int, list[Interval]] = {}
    for spec in world.specialists:
        kept: list[Booking] = []
        for b in spec.bookings:
            if b.status in ACTIVE_STATUSES:
                own = [k for k in kept if k.status in ACTIVE_STATUSES]
                if any(_overlap(b.start, _reach(b), k.start, _reach(k)) for k in own):
                    continue
                if b.in_room and any(_overlap(b.start, b.end, *r) for r in room):
                    continue
                if any(_overlap(b.start, b.end, *p) for p in patients.get(b.patient, [])):
                    continue
                if b.in_room:
                    room.append(Interval(b.start, b.end))
                patients.setdefault(b.patient, []).append(Interval(b.start, b.end))
            kept.append(b)
        spec.bookings = kept


def _store(world: World, cast: Cast) -> dict[int, Membership]:
    patients = [factories.make_patient(cast.station) for _ in range(3)]
    Holiday.objects.filter(facility=None).delete()
    if world.holiday:
        Holiday.objects.create(date=world.holiday, name_vi="Ngày lễ", name_en="Holiday")
    if world.closure:
        facility, day = world.closure
        Holiday.objects.create(
            date=day, facility=getattr(cast, facility), name_vi="Đóng cửa", name_en="Closed"
        )
    for start, end in world.others_in_room:
        factories.make_consultation(
            patient=factories.make_patient(cast.station),
            specialist=cast.other_specialist,
            hospital=cast.hospital2,
            room=cast.room,
            start=start,
            minutes=int((end - start).total_seconds() // 60),
        )
    for n, spec in enumerate(world.specialists):
        cal = spec.calendar
        user = factories.make_user(Membership.Role.SPECIALIST, cast.hospital, username=f"bf{n}")
        cal.key = user.pk
        SpecialistSchedule.objects.create(
            specialist=user,
            time_zone=str(cal.tz),
            buffer_minutes=int(cal.buffer.total_seconds() // 60),
            min_notice_minutes=int(cal.notice.total_seconds() // 60),
            horizon_days=cal.horizon.days,
            max_per_day=cal.max_per_day,
        )
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(
                specialist=user,
                weekday=r.weekday,
                start_time=r.start,
                end_time=r.end,
                slot_minutes=r.slot_minutes,
            )
            for r in cal.rules
        )
        AvailabilityOverride.objects.bulk_create(
            AvailabilityOverride(
                specialist=user,
                date=o.day,
                day_off=o.day_off,
                start_time=o.start,
                end_time=o.end,
                slot_minutes=o.slot_minutes,
            )
            for o in cal.overrides
        )
        TimeOff.objects.bulk_create(
            TimeOff(specialist=user, start=t.start, end=t.end) for t in cal.time_off
        )
        for b in spec.bookings:
            factories.make_consultation(
                patient=patients[b.patient],
                specialist=user,
                hospital=cast.hospital,
                room=cast.room if b.in_room else None,
                start=b.start,
                minutes=int((b.end - b.start).total_seconds() // 60),
                status=b.status,
                buffer_end=b.buffer_end,
            )
    users = [s.calendar.key for s in world.specialists]
    found = Membership.objects.filter(user__in=users, role=Membership.Role.SPECIALIST)
    return {m.user_id: m for m in found.order_by("id")}


Answer = list[tuple[datetime, datetime, object]]


def brute_force(world: World, end: datetime) -> Answer:
    """Every slot the rules offer, kept if nothing at all stands in its way; the earliest
    `limit`, ties in the order of the specialists (as the search lists them)."""
    room = list(world.others_in_room)
    room += [
        Interval(b.start, b.end)
        for s in world.specialists
        for b in s.bookings
        if b.in_room and b.status in ACTIVE_STATUSES
    ]
    found = []
    for order, spec in enumerate(world.specialists):
        cal = spec.calendar
        # The searched specialists work at the hospital and the room is the station's: a
        # closure of either closes the day, one of hospital2 does not.
        closed = {world.holiday} if world.holiday else set()
        if world.closure and world.closure[0] != "hospital2":
            closed.add(world.closure[1])
        national = national_holidays(world.start.date() - timedelta(days=2), end.date())
        holidays = frozenset(closed | set(national))
        offering = Calendar(cal.key, cal.tz, cal.rules, cal.overrides, holidays=holidays)
        active = [b for b in spec.bookings if b.status in ACTIVE_STATUSES]
        per_day: dict[date, int] = {}
        for b in active:
            day = b.start.astimezone(cal.tz).date()
            per_day[day] = per_day.get(day, 0) + 1
        earliest = max(world.start, world.now + cal.notice)
        latest = min(end, world.now + cal.horizon)
        for s, e in rule_slots(offering, world.start - timedelta(days=1), end):
            if not earliest <= s < latest:
                continue
            if any(_overlap(s, e, *t) for t in cal.time_off):
                continue
            if any(_overlap(s, e + cal.buffer, b.start, _reach(b)) for b in active):
                continue
            if any(_overlap(s, e, *r) for r in room):
                continue
            day = s.astimezone(cal.tz).date()
            if cal.max_per_day is not None and per_day.get(day, 0) >= cal.max_per_day:
                continue
            found.append((s, e, order, cal.key))
    return [(s, e, key) for s, e, _order, key in sorted(found)[: world.limit]]


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(worlds())
def test_property_the_search_gives_the_brute_force_answer(cast: Cast, world: World) -> None:
    _storable(world)
    end = world.now + timedelta(days=DAYS)
    with transaction.atomic():
        members = _store(world, cast)
        found = selectors.free_slots_search(
            members, room=cast.room, start=world.start, end=end, limit=world.limit, now=world.now
        )
        answer = [(slot.start, slot.end, slot.key) for slot, _member in found]
        assert answer == brute_force(world, end)
        assert all(member.user_id == slot.key for slot, member in found)
        transaction.set_rollback(True)


def test_the_brute_force_sees_what_it_is_meant_to_see(cast: Cast) -> None:
    """The oracle itself: a booked slot, the buffer after a booking, the room and the daily
    cap each take slots away."""
    base = BASES[-1]  # Monday 2026-11-23, 07:00 in Hà Nội
    hcm = ZONES[0]
    cal = Calendar(
        key=1,
        tz=hcm,
        rules=[Rule(0, *(datetime(2026, 1, 1, h).time() for h in (8, 10)), 30)],
        buffer=timedelta(minutes=15),
        notice=timedelta(0),
        max_per_day=2,
    )
    at = lambda h, m=0: datetime(2026, 11, 23, h, m, tzinfo=hcm)  # noqa: E731
    bookings = [Booking(at(8), at(8, 30), at(8, 45), S.BOOKED, False, 0)]
    world = World(
        base=base,
        specialists=[Specialist(cal, bookings)],
        others_in_room=[Interval(at(9), at(9, 30))],
        holiday=None,
        closure=None,
        now=base,
        start=base,
        limit=5,
    )
    # 08:00 booked, 08:30 runs into its buffer, the room is taken at 09:00: 09:30 is left.
    day = base + timedelta(days=1)
    assert [s for s, _e, _k in brute_force(world, day)] == [at(9, 30)]
    bookings.append(Booking(at(9, 30), at(10), None, S.CANCELLED, False, 0))
    assert [s for s, _e, _k in brute_force(world, day)] == [at(9, 30)]
    # A second active consult that day, outside the hours, reaches the daily cap of two.
    bookings.append(Booking(at(11), at(11, 30), None, S.BOOKED, False, 1))
    assert brute_force(world, day) == []


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(worlds(), st.integers(0, DAYS * 24 * 4), st.integers(1, DAYS * 24 * 4))
def test_property_range_agg_and_window_functions_merge_the_same_runs(
    cast: Cast, world: World, skip: int, length: int
) -> None:
    """PostgreSQL merges busy runs with range_agg; the window functions that SQLite uses
    give the same runs (they run on PostgreSQL too, so CI keeps the fallback honest)."""
    if vendor() != "postgresql":
        pytest.skip("range_agg is PostgreSQL's")
    _storable(world)
    lo = world.base + timedelta(minutes=15 * skip)
    hi = lo + timedelta(minutes=15 * length)
    with transaction.atomic():
        ids = list(_store(world, cast))
        fast = selectors.booked_runs(ids, lo, hi, range_agg=True)
        portable = selectors.booked_runs(ids, lo, hi, range_agg=False)
        assert {k: sorted(v) for k, v in fast.items()} == {
            k: sorted(v) for k, v in portable.items()
        }
        transaction.set_rollback(True)
