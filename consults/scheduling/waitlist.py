"""Waitlist: a booked consult asks for an earlier slot; a cancellation offers it one."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from clinics.models import User
from consults.models import Consultation
from consults.scheduling.models import WaitlistEntry
from telehealth.errors import AppError


def waitlist_join(*, consultation: Consultation, actor: User) -> WaitlistEntry:
    """Precondition: actor is station staff of the consult's station."""
    if consultation.status != Consultation.Status.BOOKED:
        raise AppError(
            "invalid_transition",
            _("Only a booked consult can wait for an earlier slot."),
            status=409,
        )
    entry, _created = WaitlistEntry.objects.update_or_create(
        consultation=consultation,
        defaults={"state": WaitlistEntry.State.WAITING, "offered_start": None, "offered_end": None},
    )
    return entry


def waitlist_offer_freed_slot(*, specialist_id: int, start: datetime, length: timedelta) -> None:
    """Offer a freed slot to the longest-waiting consult of that specialist booked later."""
    with transaction.atomic():
        entry = (
            WaitlistEntry.objects.select_for_update(of=("self",))
            .select_related("consultation")
            .filter(
                state=WaitlistEntry.State.WAITING,
                consultation__specialist_id=specialist_id,
                consultation__status=Consultation.Status.BOOKED,
                consultation__start__gt=start,
            )
            .order_by("created_at", "id")
            .first()
        )
        if entry is None:
            return
        entry.state = WaitlistEntry.State.OFFERED
        entry.offered_start, entry.offered_end = start, start + length
        entry.save(update_fields=["state", "offered_start", "offered_end", "updated_at"])


def waitlist_take(*, entry: WaitlistEntry, actor: User) -> Consultation:
    """Move the consult to the offered slot in one action (it may have been taken since)."""
    from consults.scheduling.services import consultation_reschedule

    if entry.state != WaitlistEntry.State.OFFERED or entry.offered_start is None:
        raise AppError(
            "no_offer", _("There is no earlier slot on offer for this consult."), status=409
        )
    assert entry.offered_end is not None
    with transaction.atomic():
        consult = consultation_reschedule(
            consultation=entry.consultation,
            start=entry.offered_start,
            end=entry.offered_end,
            actor=actor,
            reason="earlier slot from the waitlist",
        )
        entry.state = WaitlistEntry.State.TAKEN
        entry.save(update_fields=["state", "updated_at"])
    return consult
