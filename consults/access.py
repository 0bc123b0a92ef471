"""Who may see and join a consultation. One access function, named predicates."""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from clinics.access import hospital_ids_of, is_admin, parse_uuid, station_ids_of
from clinics.models import Membership, User
from consults.models import Consultation
from telehealth.errors import not_found


def consultations_visible_to(user: User) -> QuerySet[Consultation]:
    """Station staff: their station's consults. Specialists: consults assigned to them.
    Coordinators: consults at their hospital. Admins: all."""
    qs = Consultation.objects.select_related(
        "patient", "station", "station_room", "specialist", "hospital", "specialty"
    )
    if not user.is_authenticated:
        return qs.none()
    if is_admin(user):
        return qs
    condition = Q(station_id__in=station_ids_of(user)) | Q(specialist_id=user.pk)
    coordinated = hospital_ids_of(user, Membership.Role.COORDINATOR)
    if coordinated:
        condition |= Q(hospital_id__in=coordinated)
    return qs.filter(condition)


def consultation_get_for_user(user: User, consultation_id: Any) -> Consultation:
    try:
        return consultations_visible_to(user).get(external_id=parse_uuid(consultation_id))
    except Consultation.DoesNotExist as exc:
        raise not_found(_("No such consultation.")) from exc


def is_station_side(user: User, consultation: Consultation) -> bool:
    return consultation.station_id in station_ids_of(user)


def is_assigned_specialist(user: User, consultation: Consultation) -> bool:
    return bool(user.is_authenticated) and consultation.specialist_id == user.pk


def can_join_consultation(user: User, consultation: Consultation) -> bool:
    """The call is for the consult's station staff and its specialist (guests: room issue)."""
    return is_station_side(user, consultation) or is_assigned_specialist(user, consultation)


def can_check_in(user: User, consultation: Consultation) -> bool:
    """Checking a patient in (and the station's other desk actions: the waitlist) is the
    station's job; administrators see everything and may act for it."""
    return is_admin(user) or is_station_side(user, consultation)


def consultations_at_desk_of(user: User) -> QuerySet[Consultation]:
    """can_check_in as a list filter: the consults whose desk actions the user may take."""
    qs = consultations_visible_to(user)
    return qs if is_admin(user) else qs.filter(station_id__in=station_ids_of(user))


def can_manage(user: User, consultation: Consultation) -> bool:
    """Reschedule, no-show, technical failure: station staff of the consult's station, its
    hospital's coordinators, admins (the consult is already visible to the user)."""
    return (
        is_admin(user)
        or is_station_side(user, consultation)
        or consultation.hospital_id in hospital_ids_of(user, Membership.Role.COORDINATOR)
    )


def can_cancel(user: User, consultation: Consultation) -> bool:
    """Whoever may manage the consult, and its specialist."""
    return can_manage(user, consultation) or is_assigned_specialist(user, consultation)
