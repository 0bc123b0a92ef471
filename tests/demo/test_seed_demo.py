"""seed_demo makes the documented demo world, and running it twice changes nothing."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from clinics.models import Facility, Membership, Patient, StationRoom, User
from clinics.validators import validate_citizen_id, validate_insurance_number

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Facility, User, Membership, Patient, StationRoom))


def test_it_is_idempotent_and_prints_the_logins() -> None:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == first
    for username in ["station", "station2", "specialist", "specialist2", "coordinator", "admin"]:
        assert username in out.getvalue()
        assert authenticate(username=username, password="telehealth-demo") is not None


def test_it_makes_the_documented_world() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    station = Membership.objects.get(user__username="station").facility
    assert (station.name, station.district, station.province) == (
        "Trạm Y tế thị trấn Tà Lùng",
        "Quảng Hòa",
        "Cao Bằng",
    )
    assert Facility.objects.filter(kind="commune_station", province="Cao Bằng").count() == 3
    assert Facility.objects.filter(kind="central_hospital").count() == 3
    cardio = Membership.objects.get(user__username="specialist")
    assert cardio.specialties.filter(code="cardiology").exists()
    assert cardio.facility.kind == "central_hospital"
    for patient in Patient.objects.all():
        validate_citizen_id(patient.citizen_id)
        validate_insurance_number(patient.insurance_number)
