"""Reads of the clinics app. Querysets come back with their relations loaded."""

import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from clinics.access import parse_uuid, patients_visible_to, station_staff_memberships
from clinics.models import (
    Consent,
    Facility,
    Membership,
    Patient,
    PatientRevision,
    Specialty,
    User,
)
from clinics.names import fold_name, vietnamese
from clinics.validators import normalize_id
from telehealth.errors import not_found


def patient_list(user: User, *, query: str = "") -> QuerySet[Patient]:
    """Patients `user` may see in Vietnamese order, optionally searched by name (without
    tones or case: "luong" finds "Lương"), CCCD or BHYT number."""
    qs = patients_visible_to(user)
    query = query.strip()
    if query:
        ident = normalize_id(query)
        qs = qs.filter(
            Q(name_folded__contains=fold_name(query))
            | Q(citizen_id=ident)
            | Q(insurance_number=ident)
        )
    return qs.order_by(vietnamese("full_name"), "id")


def patient_duplicates(
    station: Facility, values: dict[str, Any], *, exclude_pk: int | None = None
) -> list[Patient]:
    """The station's patients who may be the one being registered: the same name (folded)
    and date of birth, or the same BHYT or phone number. At most ten, in Vietnamese order."""
    same = Q()
    name, born = values.get("full_name"), values.get("date_of_birth")
    if name and born:
        same |= Q(name_folded=fold_name(name), date_of_birth=born)
    if values.get("insurance_number"):
        same |= Q(insurance_number=values["insurance_number"])
    if values.get("phone"):
        same |= Q(phone=values["phone"])
    if not same:
        return []
    qs = Patient.objects.filter(same, station=station)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return list(qs.order_by(vietnamese("full_name"), "id")[:10])


def patient_revision_list(patient: Patient) -> QuerySet[PatientRevision]:
    return patient.revisions.select_related("changed_by").order_by("-changed_at", "-id")


def station_patient_list(user: User) -> QuerySet[Patient]:
    """The patients of the stations where `user` is staff (whom they may book for), in one
    query: the station check of `clinics.access.station_patient_get`, as a list."""
    stations = station_staff_memberships().filter(user=user).values("facility_id")
    return (
        Patient.objects.select_related("station")
        .filter(station_id__in=stations)
        .order_by(vietnamese("full_name"), "id")
    )


def consent_current(patient: Patient) -> dict[str, str]:
    """The latest status per purpose: {"telemedicine": "given", …}."""
    current: dict[str, str] = {}
    for consent in patient.consents.order_by("recorded_at", "id"):
        current[consent.purpose] = consent.status
    return current


def patient_may_be_contacted(patient_id: int) -> bool:
    """The patient's latest CONTACT consent is `given` (none recorded: not contacted)."""
    latest = (
        Consent.objects.filter(patient_id=patient_id, purpose=Consent.Purpose.CONTACT)
        .order_by("-recorded_at", "-id")
        .values_list("status", flat=True)
        .first()
    )
    return latest == Consent.Status.GIVEN


def consent_list(patient: Patient) -> QuerySet[Consent]:
    return patient.consents.select_related("recorded_by").order_by("-recorded_at", "-id")


def station_staff(station_id: int) -> QuerySet[User]:
    """The staff of one commune station who may act for it (active accounts only): those
    its reminders and notifications go to."""
    members = station_staff_memberships().filter(facility_id=station_id).values("user_id")
    return User.objects.filter(is_active=True, pk__in=members).order_by("pk")


def station_staff_of_stations(station_ids: Iterable[int]) -> dict[int, list[User]]:
    """station_staff of many stations in one query (a batch of reminders): the same rule,
    station id → its staff (every asked station present, maybe with nobody)."""
    wanted = set(station_ids)
    staff: dict[int, list[User]] = {station_id: [] for station_id in wanted}
    members = (
        station_staff_memberships()
        .filter(facility_id__in=wanted, user__is_active=True)
        .select_related("user")
        .order_by("facility_id", "user_id")
    )
    for member in members:
        staff[member.facility_id].append(member.user)
    return staff


def facility_list() -> QuerySet[Facility]:
    return Facility.objects.all().order_by("name")


def facility_get(facility_id: object) -> Facility:
    try:
        return Facility.objects.get(external_id=parse_uuid(facility_id))
    except Facility.DoesNotExist as exc:
        raise not_found() from exc


def specialty_list() -> QuerySet[Specialty]:
    return Specialty.objects.all().order_by("name_vi")


def specialist_list(*, specialty: str = "", facility: str = "") -> QuerySet[Membership]:
    """Active specialist memberships; filters take a specialty code/id or a facility id."""
    qs = (
        Membership.objects.filter(role=Membership.Role.SPECIALIST, is_active=True)
        .select_related("user", "facility", "department")
        .prefetch_related(Prefetch("specialties", queryset=Specialty.objects.order_by("code")))
        .order_by("user__full_name", "id")
    )
    if specialty:
        condition = Q(specialties__code=specialty)
        if _is_uuid(specialty):
            condition |= Q(specialties__external_id=specialty)
        qs = qs.filter(condition).distinct()
    if facility:
        qs = qs.filter(facility__external_id=facility) if _is_uuid(facility) else qs.none()
    return qs


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def user_roles(user: User) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user, is_active=True)
        .select_related("facility")
        .order_by("role", "facility__name")
    )
