"""Fixtures for scheduling: open hours for the cast's specialists, a bookable day, helpers."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient

from clinics.models import Membership, User
from consults.scheduling.models import AvailabilityRule, Holiday, SpecialistSchedule
from consults.scheduling.public_holidays import is_national_holiday
from tests import factories
from tests.conftest import Cast

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def give_hours(
    specialist: User,
    *,
    start: time = time(8),
    end: time = time(17),
    minutes: int = 30,
    buffer: int = 0,
    **policy: Any,
) -> SpecialistSchedule:
    """Every day of the week, `start`–`end` Hà Nội time, in `minutes` slots."""
    for weekday in range(7):
        AvailabilityRule.objects.create(
            specialist=specialist,
            weekday=weekday,
            start_time=start,
            end_time=end,
            slot_minutes=minutes,
        )
    schedule, _ = SpecialistSchedule.objects.update_or_create(
        specialist=specialist, defaults={"buffer_minutes": buffer, **policy}
    )
    return schedule


@pytest.fixture
def hours(cast: Cast) -> SpecialistSchedule:
    give_hours(cast.other_specialist)
    return give_hours(cast.specialist)


@pytest.fixture
def day(db: None) -> date:
    """A day at least two days ahead that is not a public holiday."""
    candidate = timezone.localdate() + timedelta(days=2)
    holidays = set(Holiday.objects.values_list("date", flat=True))
    while candidate in holidays or is_national_holiday(candidate):
        candidate += timedelta(days=1)
    return candidate


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=HCM)


@pytest.fixture
def colleague(cast: Cast) -> User:
    """A second cardiologist at the same hospital, with the same open hours."""
    user = factories.make_user(Membership.Role.SPECIALIST, cast.hospital, username="colleague")
    give_hours(user)
    return user


BookFn = Callable[..., Response]


@pytest.fixture
def book(cast: Cast, api: Callable[[User | None], APIClient]) -> BookFn:
    """book(start, minutes=30, user=nurse, key=None, **fields) → the POST response."""

    def do(
        start: datetime,
        minutes: int = 30,
        *,
        user: User | None = None,
        key: str | None = None,
        **fields: Any,
    ) -> Response:
        body = {
            "patient": str(cast.patient.external_id),
            "specialist": str(cast.specialist.external_id),
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=minutes)).isoformat(),
            "reason": "Đau ngực khi gắng sức",
        } | fields
        headers = {"Idempotency-Key": key} if key else {}
        client = api(user or cast.nurse)
        return client.post("/api/v1/consultations/", body, format="json", headers=headers)  # type: ignore[return-value]

    return do
