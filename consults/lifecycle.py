"""The consultation lifecycle (FHIR Appointment-aligned) and its one write path.

requested → booked → checked_in → in_progress ⇄ interrupted → completed;
cancelled (by whom, why), no_show (which party), failed (technical, not a no-show).
A dropped connection never ends a consult: only an explicit action does.
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from clinics.models import User
from consults.models import Consultation, ConsultationEvent
from telehealth.codes import Code
from telehealth.errors import AppError

S = Consultation.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.BOOKED, S.CANCELLED}),
    S.BOOKED: frozenset({S.CHECKED_IN, S.CANCELLED, S.NO_SHOW, S.BOOKED}),
    S.CHECKED_IN: frozenset({S.IN_PROGRESS, S.CANCELLED, S.NO_SHOW, S.FAILED, S.COMPLETED}),
    S.IN_PROGRESS: frozenset({S.INTERRUPTED, S.COMPLETED, S.FAILED}),
    S.INTERRUPTED: frozenset({S.IN_PROGRESS, S.COMPLETED, S.FAILED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.NO_SHOW: frozenset(),
    S.FAILED: frozenset(),
}

# Statuses that hold a specialist's time and a station room.
ACTIVE_STATUSES = (S.BOOKED, S.CHECKED_IN, S.IN_PROGRESS, S.INTERRUPTED)


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def consultation_transition(
    *, consultation: Consultation, to: str, actor: User | None, reason: str = ""
) -> Consultation:
    """Move a consult to `to` and record the event.

    Locks the row, so two clicks on two ends cannot both move it. Raises
    `invalid_transition` (409) when the lifecycle does not allow it.
    """
    with transaction.atomic():
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if not can_transition(locked.status, to):
            raise AppError(
                Code.INVALID_TRANSITION,
                _("A consultation that is “%(from)s” cannot become “%(to)s”.")
                % {"from": S(locked.status).label, "to": S(to).label},
                status=409,
            )
        ConsultationEvent.objects.create(
            consultation=locked, actor=actor, from_status=locked.status, to_status=to, reason=reason
        )
        locked.status = to
        locked.save(update_fields=["status", "updated_at"])
    consultation.status = locked.status
    return consultation
