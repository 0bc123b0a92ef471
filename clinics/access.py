"""Who sees what. One access function per resource, shared by list and detail.

What a user may not see is a 404 (`not_found`), never a 403 that confirms it exists.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from clinics.models import Consent, Facility, Membership, Patient, User
from telehealth.codes import Code
from telehealth.errors import AppError, not_found


def memberships_of(user: Any, role: str | None = None) -> QuerySet[Membership]:
    if not getattr(user, "is_authenticated", False):
        return Membership.objects.none()
    qs = Membership.objects.filter(user=user, is_active=True)
    return qs.filter(role=role) if role else qs


# What makes a membership "staff of a station": station-staff role at a commune station.
STATION_STAFF = Q(role=Membership.Role.STATION_STAFF, facility__kind=Facility.Kind.COMMUNE_STATION)


def station_staff_memberships() -> QuerySet[Membership]:
    """Active station-staff memberships. Who may act for a station (station_ids_of, Standing)
    and who hears from it (clinics.selectors.station_staff) both start here."""
    return Membership.objects.filter(STATION_STAFF, is_active=True)


@dataclass(frozen=True)
class Standing:
    """Who a user is, as access rules need it: plain data, so that a rule over it answers
    the same for one user (`standing_of`) and for many read at once (`standings_of`)."""

    user_id: int | None
    admin: bool
    stations: frozenset[int]  # where the user is station staff
    coordinated: frozenset[int]  # hospitals where the user is a coordinator


NOBODY = Standing(None, False, frozenset(), frozenset())


def _standing(user_id: int, superuser: bool, rows: Iterable[tuple[str, int, bool]]) -> Standing:
    """Active memberships (role, facility id, is station staff) → Standing."""
    rows = list(rows)
    return Standing(
        user_id=user_id,
        admin=superuser or any(role == Membership.Role.ADMIN for role, _f, _s in rows),
        stations=frozenset(facility for _r, facility, staff in rows if staff),
        coordinated=frozenset(
            facility for role, facility, _s in rows if role == Membership.Role.COORDINATOR
        ),
    )


def _membership_rows(user_ids: Iterable[int]) -> QuerySet[Membership, tuple[int, str, int, bool]]:
    return (
        Membership.objects.filter(user_id__in=list(user_ids), is_active=True)
        .annotate(staff=ExpressionWrapper(STATION_STAFF, output_field=BooleanField()))
        .values_list("user_id", "role", "facility_id", "staff")
    )


def standing_of(user: Any) -> Standing:
    """One query. A deactivated account has no standing (it cannot sign in either)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOBODY
    rows = ((role, facility, staff) for _u, role, facility, staff in _membership_rows([user.pk]))
    return _standing(user.pk, bool(user.is_superuser), rows)


def standings_of(user_ids: Iterable[int]) -> dict[int, Standing]:
    """standing_of for many users in two queries, read fresh from the database (the room's
    re-check: a membership or an account may have changed since the user was loaded)."""
    ids = set(user_ids)
    accounts = User.objects.filter(pk__in=ids, is_active=True).values_list("pk", "is_superuser")
    rows: dict[int, list[tuple[str, int, bool]]] = {}
    for uid, role, facility, staff in _membership_rows(ids):
        rows.setdefault(uid, []).append((role, facility, staff))
    found = {uid: _standing(uid, superuser, rows.get(uid, [])) for uid, superuser in accounts}
    return {uid: found.get(uid, NOBODY) for uid in ids}


def is_admin(user: Any) -> bool:
    return standing_of(user).admin


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
    standing = standing_of(user)
    if standing.user_id is None:
        return qs.none()
    if standing.admin:
        return qs
    # Through the reverse relation, in a subquery: clinics (who and where) does not import
    # consults (what happens), and a join would repeat a patient once per consult.
    on_consults = Q(consultations__specialist_id=standing.user_id)
    if standing.coordinated:
        on_consults |= Q(consultations__hospital_id__in=standing.coordinated)
    condition = Q(station_id__in=standing.stations)
    condition |= Q(pk__in=Patient.objects.filter(on_consults).values("pk"))
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
        Code.PERMISSION_DENIED,
        _("Only staff of a commune health station can do this."),
        status=403,
    )
