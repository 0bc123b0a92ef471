"""Closed days: national holidays of any year (computed by the `holidays` package) and the
closures of the specialist's hospital and of the station, in the search and the booking."""

from datetime import date, datetime, timedelta

import pytest

from consults.scheduling import selectors
from consults.scheduling.models import Holiday, SpecialistSchedule
from consults.scheduling.public_holidays import national_holidays
from tests.conftest import Cast
from tests.scheduling.conftest import HCM, BookFn, at, give_hours

pytestmark = pytest.mark.django_db

TET_2028 = [date(2028, 1, d) for d in range(24, 30)]  # 29 Tết … mùng 4 (Bính Thân → Mậu Thân)
TET_2030 = [date(2030, 1, 31)] + [date(2030, 2, d) for d in range(1, 7)]


def offered_days(cast: Cast, first: date, last: date) -> set[date]:
    """The local days on which the cardiologist is offered, searched from the day before."""
    members = selectors.specialists_for_search(specialist=str(cast.specialist.external_id))
    start = datetime.combine(first, datetime.min.time(), tzinfo=HCM)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=HCM)
    found = selectors.free_slots_search(
        members, room=cast.room, start=start, end=end, limit=1000, now=start - timedelta(days=1)
    )
    return {slot.start.astimezone(HCM).date() for slot, _member in found}


@pytest.fixture
def open_every_day(cast: Cast) -> SpecialistSchedule:
    """Hours every day, bookable years ahead (for the far-off Tết)."""
    return give_hours(cast.specialist, horizon_days=1500)


def test_the_package_knows_tet_2028_and_2030() -> None:
    days = national_holidays(date(2028, 1, 1), date(2030, 12, 31))
    assert set(TET_2028) <= set(days)
    assert set(TET_2030) <= set(days)
    assert days[date(2028, 1, 26)] == "Tết Nguyên Đán"
    assert days[date(2028, 4, 4)] == "Ngày Giỗ Tổ Hùng Vương"


@pytest.mark.parametrize("tet", [TET_2028, TET_2030], ids=["2028", "2030"])
def test_it_offers_no_slot_on_tet(
    cast: Cast, open_every_day: SpecialistSchedule, tet: list[date]
) -> None:
    first, last = tet[0] - timedelta(days=3), tet[-1] + timedelta(days=3)
    offered = offered_days(cast, first, last)
    assert not offered & set(tet)
    ordinary = {first + timedelta(days=n) for n in range((last - first).days + 1)} - set(
        national_holidays(first, last)
    )
    assert ordinary
    assert ordinary <= offered


@pytest.mark.parametrize("closed", ["station", "hospital"])
def test_it_offers_no_slot_on_a_closure_of_the_station_or_the_hospital(
    cast: Cast, hours: SpecialistSchedule, day: date, closed: str
) -> None:
    Holiday.objects.create(
        date=day, facility=getattr(cast, closed), name_vi="Đóng cửa", name_en="Closed"
    )
    around = {day - timedelta(days=1), day + timedelta(days=1)}
    offered = offered_days(cast, min(around), max(around))
    assert day not in offered
    ordinary = around - set(national_holidays(min(around), max(around)))
    assert ordinary
    assert ordinary <= offered


def test_a_closure_of_another_hospital_takes_no_slot(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    Holiday.objects.create(date=day, facility=cast.hospital2, name_vi="Đóng cửa", name_en="Closed")
    assert day in offered_days(cast, day, day)


def test_booking_on_tet_2028_is_refused_as_a_closed_day(
    open_every_day: SpecialistSchedule, book: BookFn
) -> None:
    response = book(at(date(2028, 1, 26), 9))
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "closed_day"


@pytest.mark.parametrize("closed", ["station", "hospital"])
def test_booking_on_a_closure_is_refused_as_a_closed_day(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn, closed: str
) -> None:
    Holiday.objects.create(
        date=day, facility=getattr(cast, closed), name_vi="Đóng cửa", name_en="Closed"
    )
    response = book(at(day, 9))
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "closed_day"


def test_the_migration_removes_only_the_seeded_national_rows(cast: Cast) -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("consults.migrations.0007_holidays_from_package")
    Holiday.objects.all().delete()
    seeded = Holiday.objects.create(
        date=date(2027, 2, 6),
        name_vi="Tết Nguyên đán Đinh Mùi (mùng 1)",
        name_en="Lunar New Year (day 1)",
    )
    renamed = Holiday.objects.create(date=date(2027, 2, 7), name_vi="Mùng 2 Tết", name_en="Tết 2")
    added = Holiday.objects.create(date=date(2028, 8, 28), name_vi="Nghỉ hoán đổi", name_en="Swap")
    closure = Holiday.objects.create(
        date=date(2027, 2, 6), facility=cast.station, name_vi="Đóng cửa", name_en="Closed"
    )
    migration.unseed_holidays(apps, None)
    assert not Holiday.objects.filter(pk=seeded.pk).exists()
    assert set(Holiday.objects.values_list("pk", flat=True)) == {renamed.pk, added.pk, closure.pk}
