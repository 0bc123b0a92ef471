"""Who sees what. One access function per resource, shared by list and detail.

What a user may not see is a 404 (`not_found`), never a 403 that confirms it exists.
"""

import uuid
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from clinics.models import Consent, Facility, Membership, Patient, User
from telehealth.errors import AppError, not_found


def memberships_of(user: Any, role: str | None = None) -> QuerySet[Membership]:
    if not getattr(user, "is_authenticated", False):
        return Membership.objects.none()
    qs = Membership.objects.filter(user=user, is_active=True)
    return qs.filter(role=role) if role else qs


def is_admin(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser) or memberships_of(user, Membership.Role.ADMIN).exists()


def station_staff_memberships() -> QuerySet[Membership]:
    """What makes someone staff of a station: an active station-staff membership at a
    commune station. Who may act for a station (station_ids_of) and who hears from it
    (clinics.selectors.station_staff) both start here."""
    return Membership.objects.filter(
        is_active=True,
        role=Membership.Role.STATION_STAFF,
        facility__kind=Facility.Kind.COMMUNE_STATION,
    )


def station_ids_of(user: Any) -> list[int]:
    """The stations where this user works as station staff."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(station_staff_memberships().filter(user=user).values_list("facility_id", flat=True))


def hospital_ids_of(user: Any, role: str) -> list[int]:
    return list(memberships_of(user, role).values_list("facility_id", flat=True))


def parse_uuid(value: Any) -> uuid.UUID:
    """A malformed id in a URL is "no such thing" (404), not a 500."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError) as exc:
        raise not_found() from exc


# --- patients -------------------------------------------------------------------------


def patients_visible_to(user: User) -> QuerySet[Patient]:
    """Station staff: their station's patients. Specialists: patients of consults they are on.
    Coordinators: patients of consults at their hospital. Admins: all."""
    qs = Patient.objects.select_related("station")
    if not user.is_authenticated:
        return qs.none()
    if is_admin(user):
        return qs
    from consults.models import Consultation

    condition: Any = Q(station_id__in=station_ids_of(user))
    condition |= Exists(Consultation.objects.filter(patient=OuterRef("pk"), specialist_id=user.pk))
    coordinated = hospital_ids_of(user, Membership.Role.COORDINATOR)
    if coordinated:
        condition |= Exists(
            Consultation.objects.filter(patient=OuterRef("pk"), hospital_id__in=coordinated)
        )
    return qs.filter(condition)


def patient_get_for_user(user: User, patient_id: Any) -> Patient:
    try:
        return patients_visible_to(user).get(external_id=parse_uuid(patient_id))
    except Patient.DoesNotExist as exc:
        raise not_found(_("No such patient.")) from exc


def consent_get_for_user(user: User, consent_id: Any) -> Consent:
    """A consent is seen by whoever sees its patient."""
    try:
        return Consent.objects.select_related("patient", "recorded_by").get(
            patient__in=patients_visible_to(user), external_id=parse_uuid(consent_id)
        )
    except Consent.DoesNotExist as exc:
        raise not_found(_("No such consent.")) from exc


def station_patient_get(user: User, patient_id: Any) -> Patient:
    """A patient of a station where `user` is staff (whom they may book for), or 404. One
    query: on a hot path, where `patient_get_for_user` and a station check took four."""
    if not user.is_authenticated:
        raise not_found(_("No such patient."))
    stations = station_staff_memberships().filter(user=user).values("facility_id")
    try:
        return Patient.objects.select_related("station").get(
            station_id__in=stations, external_id=parse_uuid(patient_id)
        )
    except Patient.DoesNotExist as exc:
        raise not_found(_("No such patient.")) from exc


def can_edit_patient(user: User, patient: Patient) -> bool:
    return is_admin(user) or patient.station_id in station_ids_of(user)


def require_station_staff(user: User, station: Facility | None = None) -> Facility:
    """The station this user registers patients for (their own), or 403."""
    stations = station_ids_of(user)
    if station is not None and (station.pk in stations or is_admin(user)):
        return station
    if station is None and len(stations) >= 1:
        return Facility.objects.get(pk=stations[0])
    raise AppError(
        "permission_denied",
        _("Only staff of a commune health station can do this."),
        status=403,
    )
