"""Reads for scheduling: the database turned into the engine's plain data."""

import uuid
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    DateField,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TimeField,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from clinics.models import Facility, Membership, Patient, Specialty, StationRoom, User
from consults.lifecycle import ACTIVE_STATUSES
from consults.models import Consultation
from consults.scheduling import engine, public_holidays, windowed
from consults.scheduling.models import (
    AvailabilityOverride,
    AvailabilityRule,
    Holiday,
    SpecialistSchedule,
    TimeOff,
)
from consults.scheduling.queries import Epoch, among, instant, overlaps, with_spans
from telehealth.codes import Code
from telehealth.errors import AppError

# Calendars are read with this margin so a local day cut by the window (in any zone)
# still counts every consult of that day (daily cap) and every buffer that reaches in.
MARGIN = timedelta(days=1)


def schedule_of(specialist_id: int) -> SpecialistSchedule:
    """The specialist's policy; an unsaved default (in the hospital's zone) if never set."""
    schedule = SpecialistSchedule.objects.filter(specialist_id=specialist_id).first()
    if schedule is not None:
        return schedule
    membership = specialist_memberships().filter(user_id=specialist_id).first()
    zone = membership.facility.time_zone if membership else "Asia/Ho_Chi_Minh"
    return SpecialistSchedule(specialist_id=specialist_id, time_zone=zone)


def specialist_memberships() -> QuerySet[Membership]:
    return Membership.objects.filter(
        role=Membership.Role.SPECIALIST, is_active=True
    ).select_related("user", "facility")


def active_bookings() -> QuerySet[Consultation]:
    return Consultation.objects.filter(status__in=ACTIVE_STATUSES, start__isnull=False)


class Policy(NamedTuple):
    """A specialist's booking policy as plain values (`SpecialistSchedule`'s fields)."""

    time_zone: str
    buffer_minutes: int
    min_notice_minutes: int
    horizon_days: int
    max_per_day: int | None


POLICY_FIELDS = Policy._fields


@dataclass
class Policies:
    """What does not depend on the searched window: booking policy and weekly rules."""

    schedules: dict[int, Policy]
    rules: dict[int, list[engine.Rule]]


def policies(specialist_ids: Iterable[int]) -> Policies:
    ids = list(specialist_ids)
    default = SpecialistSchedule()
    # The zone of the specialist's hospital, for those who never set a schedule.
    zone = Subquery(
        Membership.objects.filter(
            user=OuterRef("pk"), role=Membership.Role.SPECIALIST, is_active=True
        )
        .order_by("id")
        .values("facility__time_zone")[:1]
    )
    rows = (
        User.objects.filter(among("id", ids))
        .annotate(zone=zone)
        .values_list("id", "zone", *(f"schedule__{f}" for f in POLICY_FIELDS))
    )
    schedules = {}
    for sid, hospital_zone, *schedule in rows:
        if schedule[0] is not None:
            schedules[sid] = Policy(*schedule)
        else:  # never set: the defaults, in the hospital's zone
            zone_name = hospital_zone or "Asia/Ho_Chi_Minh"
            schedules[sid] = Policy(zone_name, *(getattr(default, f) for f in POLICY_FIELDS[1:]))
    rules: dict[int, list[engine.Rule]] = defaultdict(list)
    fields = ("weekday", "start_time", "end_time", "slot_minutes", "valid_from", "valid_until")
    rule_rows = (
        AvailabilityRule.objects.filter(among("specialist_id", ids))
        .order_by()
        .values_list("specialist_id", *fields)
    )
    for specialist_id, *values in rule_rows:
        rules[specialist_id].append(engine.Rule(*values))
    return Policies(schedules, rules)


def calendars(
    specialist_ids: Iterable[int],
    *,
    start: datetime,
    end: datetime,
    policy: Policies | None = None,
    hospitals: Mapping[int, int | None] | None = None,
    station_id: int | None = None,
) -> list[engine.Calendar]:
    """One engine calendar per specialist, from a fixed number of queries, without their
    bookings (`busy` reads those: the search asks for them window by window).

    Closed days (docs/decisions.md): the national holidays (`public_holidays`, computed,
    plus the `Holiday` rows without facility) and the closures of the facilities the
    consult needs open: the specialist's hospital (`hospitals`: the hospital each
    specialist is searched or booked at) and the station (`station_id`)."""
    ids = list(specialist_ids)
    policy = policy or policies(ids)
    hospitals = hospitals or {}
    lo, hi = start - MARGIN, end + MARGIN
    facilities = {f for f in (*hospitals.values(), station_id) if f is not None}
    overrides: dict[int, list[engine.Override]] = defaultdict(list)
    time_off: dict[int, list[engine.Interval]] = defaultdict(list)
    closed: dict[int | None, set[date]] = defaultdict(set)
    for kind, sid, day, day_off, o_start, o_end, minutes, t_start, t_end in _exceptions(
        ids, lo, hi, facilities
    ):
        if kind == OVERRIDE:
            overrides[sid].append(engine.Override(day, day_off, o_start, o_end, minutes))
        elif kind == TIME_OFF:
            time_off[sid].append(engine.Interval(t_start, t_end))
        else:  # a holiday row: sid is its facility, None for a national one
            closed[sid].add(day)
    national = frozenset(public_holidays.national_holidays(lo.date(), hi.date()))
    national |= closed.pop(None, set())
    station_closed = closed.get(station_id, set()) if station_id is not None else set()
    # One frozenset per hospital, so calendars of one hospital share the engine's memo.
    closed_days: dict[int | None, frozenset[date]] = {}
    out = []
    for sid in ids:
        hospital = hospitals.get(sid)
        holidays = closed_days.get(hospital)
        if holidays is None:
            holidays = national | station_closed
            if hospital is not None:
                holidays |= closed.get(hospital, set())
            closed_days[hospital] = holidays
        schedule = policy.schedules[sid]
        out.append(
            engine.Calendar(
                key=sid,
                tz=ZoneInfo(schedule.time_zone),
                rules=[
                    r
                    for r in policy.rules.get(sid, [])
                    if (r.valid_until is None or r.valid_until >= lo.date())
                    and (r.valid_from is None or r.valid_from <= hi.date())
                ],
                overrides=overrides.get(sid, []),
                time_off=time_off.get(sid, []),
                holidays=holidays,
                buffer=timedelta(minutes=schedule.buffer_minutes),
                notice=timedelta(minutes=schedule.min_notice_minutes),
                horizon=timedelta(days=schedule.horizon_days),
                max_per_day=schedule.max_per_day,
            )
        )
    engine.share_memos(out)
    return out


OVERRIDE, TIME_OFF, HOLIDAY = 1, 2, 3


def _exceptions(ids: list[int], lo: datetime, hi: datetime, facilities: set[int]) -> Any:
    """The overrides and time off of these specialists and the holiday rows (national, and
    closures of these facilities) around [lo, hi), as rows of one shape (kind, specialist
    or facility, date, day off, from, until, slot minutes, time off's start, end), in one
    round trip: a booking reads them inside its locks, and three mostly empty reads cost
    three round trips."""
    no_date, no_time = Value(None, DateField()), Value(None, TimeField())
    no_instant, no_minutes = Value(None, DateTimeField()), Value(None, IntegerField())
    columns = ("k", "sid", "d", "off", "o_start", "o_end", "minutes", "t_start", "t_end")
    override_rows = AvailabilityOverride.objects.filter(
        among("specialist_id", ids), date__gte=lo.date(), date__lte=hi.date()
    ).annotate(
        k=Value(OVERRIDE),
        sid=F("specialist_id"),
        d=F("date"),
        off=F("day_off"),
        o_start=F("start_time"),
        o_end=F("end_time"),
        minutes=F("slot_minutes"),
        t_start=no_instant,
        t_end=no_instant,
    )
    time_off_rows = TimeOff.objects.filter(
        among("specialist_id", ids), start__lt=hi, end__gt=lo
    ).annotate(
        k=Value(TIME_OFF),
        sid=F("specialist_id"),
        d=no_date,
        off=Value(False),
        o_start=no_time,
        o_end=no_time,
        minutes=no_minutes,
        t_start=F("start"),
        t_end=F("end"),
    )
    holiday_rows = Holiday.objects.filter(
        Q(facility=None) | Q(among("facility_id", facilities)),
        date__gte=lo.date(),
        date__lte=hi.date(),
    ).annotate(
        k=Value(HOLIDAY),
        sid=F("facility_id"),
        d=F("date"),
        off=Value(True),
        o_start=no_time,
        o_end=no_time,
        minutes=no_minutes,
        t_start=no_instant,
        t_end=no_instant,
    )
    return (
        override_rows.order_by()
        .values_list(*columns)
        .union(
            time_off_rows.order_by().values_list(*columns),
            holiday_rows.order_by().values_list(*columns),
            all=True,
        )
    )


@dataclass
class Busy:
    """Active bookings in a window: per specialist as (start, end of buffer), and the
    station room's and the patient's as (start, end)."""

    specialists: dict[Hashable, list[engine.Interval]]
    room: list[engine.Interval]
    patient: list[engine.Interval]


def busy(
    specialist_ids: list[int],
    lo: datetime,
    hi: datetime,
    *,
    room_id: int | None = None,
    patient_id: int | None = None,
    exclude: int | None = None,
) -> Busy:
    """Active bookings overlapping [lo, hi) of these specialists (with their buffers), of
    the station room and of the patient (without: the buffer is the specialist's rest),
    in one query: each round trip to the database counts on a busy server. `exclude`: a
    consult being moved, which must not stand in its own way."""
    wanted = Q(among("specialist_id", specialist_ids)) & overlaps(lo, hi, reach=True)
    if room_id is not None:
        wanted |= Q(station_room_id=room_id) & overlaps(lo, hi, reach=False)
    if patient_id is not None:
        wanted |= Q(patient_id=patient_id) & overlaps(lo, hi, reach=False)
    qs = with_spans(active_bookings()).filter(wanted)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    rows = (
        qs.annotate(s=Epoch("start"), e=Epoch("end"), r=Epoch(Coalesce("buffer_end", "end")))
        .order_by()
        .values_list("specialist_id", "station_room_id", "patient_id", "s", "e", "r")
    )
    wanted_ids = set(specialist_ids)
    out = Busy(defaultdict(list), [], [])
    for specialist_id, room, patient, b_start, b_end, b_reach in rows:
        start = instant(b_start)
        if specialist_id in wanted_ids:
            out.specialists[specialist_id].append(engine.Interval(start, instant(b_reach)))
        if room_id is not None and room == room_id:
            out.room.append(engine.Interval(start, instant(b_end)))
        if patient_id is not None and patient == patient_id:
            out.patient.append(engine.Interval(start, instant(b_end)))
    return out


# Touching or overlapping bookings of one specialist merged into one interval, in the
# database: a fully booked day comes back as a row per run of consults, not one per
# consult, and the engine steps over each run at once. Both forms merge as engine.Busy
# does: touching intervals join.
#
# PostgreSQL: range_agg's multirange merges as it aggregates, with no sort of the rows
# and no window pass (about 3× faster than RUNS on eight weeks of 300 specialists).
RUNS_RANGE_AGG = """
SELECT specialist_id, EXTRACT(EPOCH FROM LOWER(run))::float8, EXTRACT(EPOCH FROM UPPER(run))::float8
FROM (
    SELECT specialist_id, UNNEST(RANGE_AGG(reach_range)) AS run
    FROM ({bookings}) AS bookings
    GROUP BY specialist_id
) AS runs
"""
# Elsewhere (SQLite): window functions. A row starts a new run unless it begins before the
# latest end of the rows before it.
RUNS = """
SELECT specialist_id, MIN(s), MAX(r) FROM (
    SELECT specialist_id, s, r,
           SUM(starts_run) OVER (PARTITION BY specialist_id ORDER BY s, r ROWS UNBOUNDED PRECEDING)
               AS run
    FROM (
        SELECT specialist_id, s, r,
               CASE WHEN s <= MAX(r) OVER (
                   PARTITION BY specialist_id ORDER BY s, r
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
               ) THEN 0 ELSE 1 END AS starts_run
        FROM ({bookings}) AS bookings
    ) AS marked
) AS numbered
GROUP BY specialist_id, run
"""


def booked_runs(
    specialist_ids: list[int], lo: datetime, hi: datetime, *, range_agg: bool | None = None
) -> dict[Hashable, list[engine.Interval]]:
    """Active bookings of these specialists overlapping [lo, hi), as (start, end of buffer),
    merged into runs: for the search, which needs no per-consult rows. `range_agg`: merged
    by RUNS_RANGE_AGG (PostgreSQL only, its default) or by RUNS (the default elsewhere)."""
    if range_agg is None:
        range_agg = connection.vendor == "postgresql"
    bookings = with_spans(active_bookings()).filter(
        Q(among("specialist_id", specialist_ids)) & overlaps(lo, hi, reach=True)
    )
    rows: QuerySet[Any, Any]
    if range_agg:
        template = RUNS_RANGE_AGG
        rows = bookings.annotate(reach_range=F("reach")).values_list("specialist_id", "reach_range")
    else:
        template = RUNS
        rows = bookings.annotate(
            s=Epoch("start"), r=Epoch(Coalesce("buffer_end", "end"))
        ).values_list("specialist_id", "s", "r")
    sql, params = rows.order_by().query.sql_with_params()
    runs: dict[Hashable, list[engine.Interval]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(template.format(bookings=sql), params)
        for specialist_id, b_start, b_reach in cursor.fetchall():
            runs[specialist_id].append(engine.Interval(instant(b_start), instant(b_reach)))
    return runs


def day_counts(
    capped: dict[Hashable, ZoneInfo], lo: datetime, hi: datetime
) -> dict[Hashable, Counter[date]]:
    """Active bookings per local day of each of these specialists (with their zones), for
    every local day that [lo, hi) touches: for the daily cap."""
    counts: dict[Hashable, Counter[date]] = defaultdict(Counter)
    if not capped:
        return counts
    rows = (
        active_bookings()
        .filter(among("specialist_id", capped), start__gte=lo - MARGIN, start__lt=hi + MARGIN)
        .annotate(s=Epoch("start"))
        .order_by()
        .values_list("specialist_id", "s")
    )
    for specialist_id, b_start in rows:
        counts[specialist_id][instant(b_start).astimezone(capped[specialist_id]).date()] += 1
    return counts


def free_slots_search(
    members: dict[int, Membership],
    *,
    room: StationRoom | None,
    start: datetime,
    end: datetime,
    limit: int = 20,
    now: datetime | None = None,
) -> list[tuple[engine.Slot, Membership]]:
    """The earliest free slots of these specialists while `room` is free too (`now`, for
    notice and horizon: the current time unless given).

    Rules, overrides, time off, holidays and the room's bookings are read once; the
    specialists' bookings window by window as `windowed.search` asks, starting with the
    few instants that hold the first `limit` candidates, so a search usually reads a few
    hundred bookings, not eight weeks."""
    now = now or timezone.now()
    hospitals = {uid: m.facility_id for uid, m in members.items()}
    station_id = room.facility_id if room is not None else None
    cals = calendars(members, start=start, end=end, hospitals=hospitals, station_id=station_id)
    capped = {c.key: c.tz for c in cals if c.max_per_day is not None}
    # One room holds a few dozen consults in eight weeks, a few thousand if booked round the
    # clock: read them once, not again in every window (MARGIN: a slot starting before
    # `end` may end after it).
    room_busy = engine.NOTHING
    if room is not None:
        room_busy = engine.Busy(busy([], start, end + MARGIN, room_id=room.pk).room)

    def load(keys: list[Hashable], lo: datetime, hi: datetime) -> windowed.Taken:
        bookings = booked_runs(cast(list[int], keys), lo, hi)  # the keys are user ids
        counts = day_counts({k: capped[k] for k in keys if k in capped}, lo, hi)
        return windowed.Taken(bookings, counts, room_busy)

    found = windowed.search(cals, load, now=now, start=start, end=end, limit=limit)
    whole = specialist_memberships().in_bulk([members[s.key].pk for s in found])  # type: ignore[index]
    return [(slot, whole[members[slot.key].pk]) for slot in found]  # type: ignore[index]


def default_room(station: Facility) -> StationRoom | None:
    return StationRoom.objects.filter(facility=station, is_active=True).order_by("id").first()


def specialists_for_search(*, specialty: str = "", specialist: str = "") -> dict[int, Membership]:
    """Active specialist memberships by user id, filtered by specialty code/id or user id.

    Lean rows (ids only: a specialty may hold hundreds); `free_slots_search` reads the
    specialists it finds in full."""
    qs = Membership.objects.filter(role=Membership.Role.SPECIALIST, is_active=True)
    qs = qs.only("id", "user_id", "facility_id").order_by("id")
    if specialty:
        condition = Q(specialties__code=specialty)
        if _is_uuid(specialty):
            condition |= Q(specialties__external_id=specialty)
        qs = qs.filter(condition)
    if specialist:
        qs = qs.filter(user__external_id=specialist) if _is_uuid(specialist) else qs.none()
    return {m.user_id: m for m in qs}


def specialist_by_public_id(specialist_id: uuid.UUID | str) -> Membership | None:
    if not _is_uuid(str(specialist_id)):
        return None
    return (
        specialist_memberships()
        .prefetch_related("specialties")
        .filter(user__external_id=specialist_id)
        .order_by("id")
        .first()
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def specialty_of(member: Membership, code: str | None) -> Specialty:
    """The specialty a booking with this specialist is for: the one `code` names (a code or
    a public id), or the specialist's first when none is named; never another one quietly
    (the slot was found for that specialty). The booking API and page share it."""
    specialties = list(member.specialties.all())
    if not code:
        found = specialties[0] if specialties else None
    else:
        found = next((s for s in specialties if code in (s.code, str(s.external_id))), None)
    if found is None:
        raise AppError(
            Code.SPECIALTY_MISMATCH,
            _("This specialist does not practise that specialty."),
            fields={"specialty": [str(_("Not a specialty of this specialist."))]},
        )
    return found


def patient_booking_at(
    patient: Patient, *, specialist: User, start: datetime
) -> Consultation | None:
    """The patient's live booking with this specialist at this time, if they hold it
    already (the booking page says so instead of a bare "slot taken")."""
    return (
        active_bookings()
        .filter(patient=patient, specialist=specialist, start=start)
        .order_by("id")
        .first()
    )
