"""What happened at the consult's time: the patient checked in, a party did not come, or the
call could not take place (technical failure, distinct from a no-show)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import User
from consults.lifecycle import consultation_transition
from consults.models import Consultation
from consults.realtime.send import room_status_changed
from consults.scheduling import reminders
from telehealth.codes import Code
from telehealth.errors import AppError

S = Consultation.Status


def check_in_window(consultation: Consultation) -> tuple[datetime, datetime] | None:
    """From CHECK_IN_WINDOW_MINUTES before the start until the end; None for a consult with
    no time (a request)."""
    if consultation.start is None or consultation.end is None:
        return None
    lead = timedelta(minutes=settings.CHECK_IN_WINDOW_MINUTES)
    return consultation.start - lead, consultation.end


def is_within_check_in_window(consultation: Consultation, now: datetime | None = None) -> bool:
    window = check_in_window(consultation)
    if window is None:
        return False
    moment = now or timezone.now()
    return window[0] <= moment <= window[1]


def consultation_check_in(*, consultation: Consultation, actor: User) -> Consultation:
    """The patient is at the station: the consult is "waiting"; the specialist's live feed
    and anyone already in the room are told on commit.

    Only inside the check-in window (409 `outside_check_in_window`): a consult long past its
    time is rescheduled or recorded as a no-show, not started.
    """
    if consultation.status == S.BOOKED and not is_within_check_in_window(consultation):
        raise AppError(
            Code.OUTSIDE_CHECK_IN_WINDOW,
            _(
                "Check-in is open from %(minutes)s minutes before the consult's start until "
                "its end. Reschedule the consult or record a no-show."
            )
            % {"minutes": settings.CHECK_IN_WINDOW_MINUTES},
            status=409,
        )
    with transaction.atomic():
        consultation_transition(consultation=consultation, to=S.CHECKED_IN, actor=actor)
        transaction.on_commit(lambda: room_status_changed(consultation), robust=True)
    return consultation


def consultation_mark_no_show(
    *, consultation: Consultation, party: str, actor: User, reason: str = ""
) -> Consultation:
    """Record which party did not come. Only after the consult was due to start."""
    if consultation.start and consultation.start > timezone.now():
        raise AppError(
            Code.TOO_EARLY,
            _("A no-show can only be recorded after the consult's start time."),
            status=409,
        )
    with transaction.atomic():
        consultation_transition(consultation=consultation, to=S.NO_SHOW, actor=actor, reason=reason)
        Consultation.objects.filter(pk=consultation.pk).update(no_show_party=party)
        reminders.cancel(consultation)
    consultation.refresh_from_db()
    return consultation


def consultation_mark_failed(
    *, consultation: Consultation, reason: str, actor: User
) -> Consultation:
    """Both parties came but the call could not take place (the link, the camera, the power).

    The lifecycle allows it once the patient is checked in (`invalid_transition` otherwise);
    the room and the specialist's feed are told on commit.
    """
    with transaction.atomic():
        consultation_transition(consultation=consultation, to=S.FAILED, actor=actor, reason=reason)
        reminders.cancel(consultation)
        transaction.on_commit(lambda: room_status_changed(consultation), robust=True)
    return consultation
