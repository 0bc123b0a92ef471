"""Builders for test data. Plain functions; every identifier is valid in format."""

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from clinics.audit import Via
from clinics.models import Facility, Membership, Patient, Specialty, StationRoom, User
from clinics.tokens import api_token_issue
from clinics.validators import citizen_id_compose
from consults.models import Consultation
from consults.scheduling.models import ConsultRequest
from consults.scheduling.triage import consult_request_file

_seq = itertools.count(1)
PASSWORD = "test-password-1"  # every user made here


def citizen_id_for(born: date, *, province: str = "004", female: bool = False) -> str:
    return citizen_id_compose(born=born, province=province, female=female, serial=next(_seq))


def insurance_number() -> str:
    return f"HN4{next(_seq):012d}"


def make_facility(kind: str = Facility.Kind.COMMUNE_STATION, **kw: Any) -> Facility:
    n = next(_seq)
    defaults = {"code": f"F{n:05d}", "name": f"Facility {n}", "province": "Cao Bằng"}
    return Facility.objects.create(kind=kind, **(defaults | kw))


def make_specialty(code: str = "cardiology") -> Specialty:
    specialty, _ = Specialty.objects.get_or_create(
        code=code, defaults={"name_vi": code, "name_en": code}
    )
    return specialty


def make_user(
    role: str | None = None, facility: Facility | None = None, *, username: str = "", **kw: Any
) -> User:
    n = next(_seq)
    user = User.objects.create_user(
        username=username or f"user{n}", password=PASSWORD, full_name=f"User {n}", **kw
    )
    if role and facility:
        membership = Membership.objects.create(
            user=user, facility=facility, role=role, licence_number=f"LIC-{n}"
        )
        if role == Membership.Role.SPECIALIST:
            membership.specialties.add(make_specialty())
    return user


def make_api_token(user: User) -> str:
    """An API token for `user`, as logging in would give one (clinics.tokens)."""
    return api_token_issue(user=user)[1]


def make_room(station: Facility) -> StationRoom:
    return StationRoom.objects.create(facility=station, name="Phòng khám từ xa")


def make_patient(station: Facility, **kw: Any) -> Patient:
    born = kw.pop("date_of_birth", date(1980, 5, 17))
    defaults = {
        "full_name": f"Bệnh nhân {next(_seq)}",
        "sex": Patient.Sex.FEMALE,
        "citizen_id": citizen_id_for(born),
        "insurance_number": insurance_number(),
    }
    return Patient.objects.create(station=station, date_of_birth=born, **(defaults | kw))


def make_consultation(
    *,
    patient: Patient,
    specialist: User,
    hospital: Facility,
    room: StationRoom | None = None,
    start: datetime | None = None,
    minutes: int = 30,
    status: str = Consultation.Status.BOOKED,
    **kw: Any,
) -> Consultation:
    if start is None:
        # Tomorrow, each call 40 minutes later than the last: two default consults never
        # collide under the no-double-booking constraints.
        offset = timedelta(days=1, minutes=40 * (next(_seq) % 500))
        start = (timezone.now() + offset).replace(second=0, microsecond=0)
    return Consultation.objects.create(
        patient=patient,
        station=patient.station,
        station_room=room,
        specialist=specialist,
        hospital=hospital,
        specialty=make_specialty(),
        start=start,
        end=start + timedelta(minutes=minutes),
        status=status,
        created_by=specialist,
        **kw,
    )


def make_request(
    *,
    patient: Patient,
    hospital: Facility,
    actor: User,
    reason: str,
    specialty: str = "cardiology",
    urgency: str = "routine",
    notes: str = "",
    via: Via | None = None,
) -> ConsultRequest:
    """A consult request filed by `actor` for `patient` with `hospital` (through the service,
    so its consult, its events and its audit entry are all there)."""
    return consult_request_file(
        patient=patient,
        specialty=make_specialty(specialty),
        hospital=hospital,
        reason=reason,
        urgency=urgency,
        preferred_windows=[],
        notes=notes,
        actor=actor,
        via=via or Via.system(),
    )
