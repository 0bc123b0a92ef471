"""Reads for scheduling: the database turned into the engine's plain data."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinics.models import Facility, Membership, StationRoom, User
from consults.lifecycle import ACTIVE_STATUSES
from consults.models import Consultation
from consults.scheduling import engine
from consults.scheduling.models import (
    AvailabilityOverride,
    AvailabilityRule,
    Holiday,
    SpecialistSchedule,
    TimeOff,
)

# Bookings and time off are loaded with this margin so a local day cut by the window
# still counts every consult of that day (daily cap) and every buffer that reaches in.
MARGIN = timedelta(days=2)
SEARCH_CHUNK = timedelta(weeks=1)


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


def calendars(
    specialist_ids: Iterable[int], *, start: datetime, end: datetime
) -> list[engine.Calendar]:
    """One engine calendar per specialist, from six queries whatever their number."""
    ids = list(specialist_ids)
    lo, hi = start - MARGIN, end + MARGIN
    schedules = {
        s.specialist_id: s for s in SpecialistSchedule.objects.filter(specialist_id__in=ids)
    }
    zones = dict(
        specialist_memberships()
        .filter(user_id__in=ids)
        .order_by("-id")
        .values_list("user_id", "facility__time_zone")
    )
    rules: dict[int, list[engine.Rule]] = defaultdict(list)
    for r in AvailabilityRule.objects.filter(specialist_id__in=ids).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=lo.date())
    ):
        rules[r.specialist_id].append(
            engine.Rule(
                r.weekday, r.start_time, r.end_time, r.slot_minutes, r.valid_from, r.valid_until
            )
        )
    overrides: dict[int, list[engine.Override]] = defaultdict(list)
    for o in AvailabilityOverride.objects.filter(
        specialist_id__in=ids, date__gte=lo.date(), date__lte=hi.date()
    ):
        overrides[o.specialist_id].append(
            engine.Override(o.date, o.day_off, o.start_time, o.end_time, o.slot_minutes)
        )
    time_off: dict[int, list[engine.Interval]] = defaultdict(list)
    for t in TimeOff.objects.filter(specialist_id__in=ids, start__lt=hi, end__gt=lo):
        time_off[t.specialist_id].append(engine.Interval(t.start, t.end))
    bookings: dict[int, list[engine.Interval]] = defaultdict(list)
    rows = (
        active_bookings()
        .filter(specialist_id__in=ids, start__lt=hi, end__gt=lo)
        .annotate(blocked_until=Coalesce("buffer_end", "end"))
        .values_list("specialist_id", "start", "blocked_until")
    )
    for specialist_id, b_start, b_end in rows:
        if specialist_id is not None and b_start is not None and b_end is not None:
            bookings[specialist_id].append(engine.Interval(b_start, b_end))
    holidays = frozenset(
        Holiday.objects.filter(facility=None, date__gte=lo.date(), date__lte=hi.date()).values_list(
            "date", flat=True
        )
    )
    out = []
    for sid in ids:
        schedule = schedules.get(sid) or SpecialistSchedule(
            specialist_id=sid, time_zone=zones.get(sid, "Asia/Ho_Chi_Minh")
        )
        out.append(
            engine.Calendar(
                key=sid,
                tz=ZoneInfo(schedule.time_zone),
                rules=rules.get(sid, []),
                overrides=overrides.get(sid, []),
                time_off=time_off.get(sid, []),
                holidays=holidays,
                bookings=bookings.get(sid, []),
                buffer=timedelta(minutes=schedule.buffer_minutes),
                notice=timedelta(minutes=schedule.min_notice_minutes),
                horizon=timedelta(days=schedule.horizon_days),
                max_per_day=schedule.max_per_day,
            )
        )
    return out


def room_busy(
    room_id: int | None, *, start: datetime, end: datetime, exclude: int | None = None
) -> engine.Busy:
    """When the station room is taken (no buffer: the buffer is the specialist's rest)."""
    if room_id is None:
        return engine.NOTHING
    qs = active_bookings().filter(
        station_room_id=room_id, start__lt=end + MARGIN, end__gt=start - MARGIN
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    rows = qs.values_list("start", "end")
    return engine.Busy(engine.Interval(s, e) for s, e in rows if s is not None and e is not None)


def free_slots_search(
    members: dict[int, Membership],
    *,
    room: StationRoom | None,
    start: datetime,
    end: datetime,
    limit: int = 20,
) -> list[tuple[engine.Slot, Membership]]:
    """The earliest free slots of these specialists while `room` is free too.

    Searched a week at a time: every slot of one week comes before any of the next, so
    the search stops at the first week that fills `limit` and usually loads one week of
    bookings, not eight."""
    now = timezone.now()
    found: list[engine.Slot] = []
    chunk_start = start
    while chunk_start < end and len(found) < limit:
        chunk_end = min(end, chunk_start + SEARCH_CHUNK)
        cals = calendars(members, start=chunk_start, end=chunk_end)
        busy = room_busy(room.pk if room else None, start=chunk_start, end=chunk_end)
        found += engine.earliest_slots(
            cals,
            now=now,
            start=chunk_start,
            end=chunk_end,
            room_busy=busy,
            limit=limit - len(found),
        )
        chunk_start = chunk_end
    return [(slot, members[slot.key]) for slot in found]  # type: ignore[index]


def default_room(station: Facility) -> StationRoom | None:
    return StationRoom.objects.filter(facility=station, is_active=True).order_by("id").first()


def specialists_for_search(*, specialty: str = "", specialist: str = "") -> dict[int, Membership]:
    """Active specialist memberships by user id, filtered by specialty code/id or user id."""
    qs = specialist_memberships().order_by("id")
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


def users_by_id(ids: Iterable[int]) -> dict[int, User]:
    return {u.pk: u for u in User.objects.filter(pk__in=list(ids))}
