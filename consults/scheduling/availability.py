"""Writes of a specialist's availability: policy, weekly rules, date overrides, time off.

Preconditions for all: `actor` may edit `specialist`'s availability
(`can_edit_availability`). Existing bookings are never moved by these changes: a rule
removed under a booked consult leaves the consult as it is.
"""

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from clinics.access import hospital_ids_of, is_admin
from clinics.models import Membership, User
from consults.scheduling.models import (
    AvailabilityOverride,
    AvailabilityRule,
    SpecialistSchedule,
    TimeOff,
)
from telehealth.errors import invalid


def can_edit_availability(user: User, specialist: User) -> bool:
    """The specialist, the coordinators of a hospital where they work, admins."""
    if user.pk == specialist.pk or is_admin(user):
        return True
    coordinated = hospital_ids_of(user, Membership.Role.COORDINATOR)
    return Membership.objects.filter(
        user=specialist, role=Membership.Role.SPECIALIST, facility_id__in=coordinated
    ).exists()


def _hours(start: time | None, end: time | None, minutes: int) -> None:
    errors: dict[str, list[str]] = {}
    if start is None or end is None or end <= start:
        errors["end_time"] = [str(_("The end must be after the start."))]
    if not 5 <= minutes <= 240:
        errors["slot_minutes"] = [str(_("A slot lasts between 5 and 240 minutes."))]
    if errors:
        raise invalid(errors)


def schedule_update(*, specialist: User, actor: User, **values: Any) -> SpecialistSchedule:
    zone = values.get("time_zone")
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise invalid({"time_zone": [str(_("Unknown time zone."))]}) from exc
    with transaction.atomic():
        schedule, _created = SpecialistSchedule.objects.select_for_update().get_or_create(
            specialist=specialist
        )
        for field, value in values.items():
            setattr(schedule, field, value)
        schedule.save()
    return schedule


def rule_add(
    *, specialist: User, weekday: int, start: time, end: time, slot_minutes: int, actor: User
) -> AvailabilityRule:
    _hours(start, end, slot_minutes)
    if weekday not in range(7):
        raise invalid({"weekday": [str(_("Choose a day of the week."))]})
    return AvailabilityRule.objects.create(
        specialist=specialist,
        weekday=weekday,
        start_time=start,
        end_time=end,
        slot_minutes=slot_minutes,
    )


def override_add(
    *,
    specialist: User,
    day: date,
    day_off: bool,
    start: time | None,
    end: time | None,
    slot_minutes: int,
    actor: User,
) -> AvailabilityOverride:
    if not day_off:
        _hours(start, end, slot_minutes)
    return AvailabilityOverride.objects.create(
        specialist=specialist,
        date=day,
        day_off=day_off,
        start_time=None if day_off else start,
        end_time=None if day_off else end,
        slot_minutes=slot_minutes,
    )


def time_off_add(
    *, specialist: User, start: datetime, end: datetime, reason: str, actor: User
) -> TimeOff:
    if end <= start:
        raise invalid({"end": [str(_("The end must be after the start."))]})
    return TimeOff.objects.create(specialist=specialist, start=start, end=end, reason=reason)


def availability_delete(*, specialist: User, kind: str, item_id: str, actor: User) -> None:
    model: Any = {"rule": AvailabilityRule, "override": AvailabilityOverride, "time_off": TimeOff}[
        kind
    ]
    model.objects.filter(specialist=specialist, external_id=item_id).delete()
