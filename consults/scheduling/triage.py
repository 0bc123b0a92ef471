"""Consult requests and their triage by the hospital's coordinators.

A request is a Consultation in status `requested` (no specialist, no time yet) with a
ConsultRequest row holding the triage state. Accepting gives it a specialist and a slot
(the same checks as any booking); declining cancels it with the reason.
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from clinics.access import (
    hospital_ids_of,
    is_admin,
    parse_uuid,
    station_ids_of,
    station_patient_get,
)
from clinics.audit import Via, audit_record
from clinics.models import AuditEntry, Facility, Membership, Patient, Specialty, User
from consults.access import can_triage_consultation, consultations_visible_to
from consults.lifecycle import consultation_transition
from consults.models import Consultation, ConsultationEvent
from consults.scheduling import selectors
from consults.scheduling.models import ConsultRequest
from consults.scheduling.services import consultation_assign
from telehealth.codes import Code
from telehealth.errors import AppError, not_found

S = Consultation.Status
State = ConsultRequest.State
OPEN = (State.WAITING, State.NEEDS_INFO)


def requests_visible_to(user: User) -> QuerySet[ConsultRequest]:
    """The same visibility as the consults themselves (consults.access)."""
    return ConsultRequest.objects.select_related(
        "consultation__patient",
        "consultation__station",
        "consultation__hospital",
        "consultation__specialty",
        "consultation__specialist",
        "consultation__station_room",
    ).filter(consultation__in=consultations_visible_to(user))


def request_get_for_user(user: User, request_id: Any) -> ConsultRequest:
    try:
        return requests_visible_to(user).get(consultation__external_id=parse_uuid(request_id))
    except ConsultRequest.DoesNotExist as exc:
        raise not_found(_("No such request.")) from exc


def may_triage(user: User) -> bool:
    """Who triages at all: a hospital's coordinators, and administrators (who see every
    hospital). The triage page and its link ask this; each request then asks can_triage."""
    return is_admin(user) or bool(hospital_ids_of(user, Membership.Role.COORDINATOR))


def can_triage(user: User, req: ConsultRequest) -> bool:
    """Coordinators triage for their own hospitals; administrators for every hospital
    (consults.access.can_triage_consultation). The API's actions and the triage page's forms
    share it; requests_to_triage_by is its list form (the triage page's queue)."""
    return can_triage_consultation(user, req.consultation)


def requests_to_triage_by(user: User) -> QuerySet[ConsultRequest]:
    """can_triage as a list filter. Narrower than requests_visible_to: a coordinator who is
    also station staff sees the station's requests to other hospitals, but does not triage
    them."""
    triaged = can_triage_consultation.filter(user, Consultation.objects.all())
    return requests_visible_to(user).filter(consultation__in=triaged)


def request_queue(
    user: User, *, open_only: bool = False, to_triage: bool = False
) -> QuerySet[ConsultRequest]:
    """Urgent first, then the longest waiting. `to_triage`: only what the user triages."""
    qs = requests_to_triage_by(user) if to_triage else requests_visible_to(user)
    if open_only:
        qs = qs.filter(state__in=OPEN)
    urgent_first = Case(
        When(consultation__urgency=Consultation.Urgency.URGENT, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.annotate(urgent_first=urgent_first).order_by("urgent_first", "created_at", "id")


def requests_sent_by(user: User) -> QuerySet[ConsultRequest]:
    """The requests the user's own stations sent, in queue order (the agenda's list). A
    coordinator who is also station staff triages the hospital's incoming ones elsewhere."""
    return request_queue(user).filter(consultation__station_id__in=station_ids_of(user))


def _not_open(req: ConsultRequest) -> AppError:
    return AppError(
        Code.INVALID_TRANSITION,
        _("This request is already “%(state)s”.") % {"state": State(req.state).label},
        status=409,
    )


def consult_request_file_from(user: User, data: dict[str, Any], via: Via) -> ConsultRequest:
    """A request filed from a validated `RequestCreateSerializer` body (the API's and the booking
    page's one path): the patient must be of the user's station, the hospital and specialty
    must exist."""
    patient = station_patient_get(user, data["patient"])
    hospital = (
        Facility.objects.exclude(kind=Facility.Kind.COMMUNE_STATION)
        .filter(external_id=data["hospital"])
        .first()
    )
    if hospital is None:
        raise not_found(_("No such hospital."))
    specialty = Specialty.objects.filter(code=data["specialty"]).first()
    if specialty is None:
        raise AppError(
            Code.UNKNOWN_SPECIALTY,
            _("No such specialty."),
            fields={"specialty": [str(_("Unknown specialty."))]},
        )
    return consult_request_file(
        patient=patient,
        specialty=specialty,
        hospital=hospital,
        reason=data["reason"],
        urgency=data["urgency"],
        preferred_windows=data.get("preferred_windows", []),
        notes=data.get("notes", ""),
        actor=user,
        via=via,
    )


def consult_request_file(
    *,
    patient: Patient,
    specialty: Specialty,
    hospital: Facility,
    reason: str,
    urgency: str,
    preferred_windows: list[dict[str, datetime]],
    notes: str,
    actor: User,
    via: Via,
) -> ConsultRequest:
    """Precondition: actor is staff of the patient's station."""
    with transaction.atomic():
        consult = Consultation.objects.create(
            patient=patient,
            station=patient.station,
            station_room=selectors.default_room(patient.station),
            hospital=hospital,
            specialty=specialty,
            status=S.REQUESTED,
            urgency=urgency,
            reason=reason,
            created_by=actor,
        )
        ConsultationEvent.objects.create(
            consultation=consult, actor=actor, from_status="", to_status=S.REQUESTED
        )
        windows = [{k: v.isoformat() for k, v in w.items()} for w in preferred_windows]
        req = ConsultRequest.objects.create(
            consultation=consult, preferred_windows=windows, notes=notes
        )
        audit_record(
            actor=actor, action=AuditEntry.Action.CREATE, obj=consult, patient=patient, via=via
        )
    return req


def _locked(req: ConsultRequest) -> ConsultRequest:
    locked = ConsultRequest.objects.select_for_update().get(pk=req.pk)
    if locked.state not in OPEN:
        raise _not_open(locked)
    return locked


def consult_request_accept(
    *, request: ConsultRequest, specialist: User, start: datetime, end: datetime, actor: User
) -> ConsultRequest:
    """Assign specialist and slot → booked (consultation_assign refuses a specialist not
    working at the hospital in the requested specialty). Precondition: actor may triage."""
    with transaction.atomic():
        req = _locked(request)
        consultation_assign(
            consultation=req.consultation, specialist=specialist, start=start, end=end, actor=actor
        )
        req.state, req.handled_by = State.ACCEPTED, actor
        req.save(update_fields=["state", "handled_by", "updated_at"])
    return req


def consult_request_ask_info(*, request: ConsultRequest, message: str, actor: User) -> Any:
    with transaction.atomic():
        req = _locked(request)
        req.state, req.handled_by, req.coordinator_message = State.NEEDS_INFO, actor, message
        req.save(update_fields=["state", "handled_by", "coordinator_message", "updated_at"])
    return req


def consult_request_answer(*, request: ConsultRequest, message: str, actor: User) -> Any:
    """The station adds what was asked; the request goes back to the queue."""
    with transaction.atomic():
        req = _locked(request)
        req.notes = f"{req.notes}\n\n{message}".strip()
        req.state = State.WAITING
        req.save(update_fields=["notes", "state", "updated_at"])
    return req


def consult_request_decline(*, request: ConsultRequest, reason: str, actor: User) -> Any:
    with transaction.atomic():
        req = _locked(request)
        consultation_transition(
            consultation=req.consultation, to=S.CANCELLED, actor=actor, reason=reason
        )
        Consultation.objects.filter(pk=req.consultation_id).update(
            cancelled_by=actor, cancel_reason=reason[:300]
        )
        req.state, req.handled_by, req.coordinator_message = State.DECLINED, actor, reason
        req.save(update_fields=["state", "handled_by", "coordinator_message", "updated_at"])
    return req
