"""Waitlist: a booked consult asks for an earlier slot; a cancellation offers it one.

Taking an offer moves a booking, so it is a booking action (services.waitlist_take).
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import User
from clinics.selectors import station_staff
from consults.access import consultations_at_desk_of
from consults.models import Consultation
from consults.realtime.events import waitlist_offer_event
from consults.realtime.send import notify_users
from consults.scheduling.models import WaitlistEntry
from telehealth.codes import Code
from telehealth.errors import AppError


def waitlist_join(*, consultation: Consultation, actor: User) -> WaitlistEntry:
    """Precondition: actor is station staff of the consult's station."""
    if consultation.status != Consultation.Status.BOOKED:
        raise AppError(
            Code.INVALID_TRANSITION,
            _("Only a booked consult can wait for an earlier slot."),
            status=409,
        )
    entry, _created = WaitlistEntry.objects.update_or_create(
        consultation=consultation,
        defaults={"state": WaitlistEntry.State.WAITING, "offered_start": None, "offered_end": None},
    )
    return entry


def waitlist_offer_freed_slot(
    *, specialist_id: int, start: datetime, length: timedelta
) -> WaitlistEntry | None:
    """Offer a freed slot to the longest-waiting consult of that specialist booked later,
    and tell its station's staff on their live feed (on commit). A slot that has already
    begun is not offered: nobody could take it."""
    if start <= timezone.now():
        return None
    with transaction.atomic():
        entry = (
            WaitlistEntry.objects.select_for_update(of=("self",))
            .select_related("consultation__patient", "consultation__station")
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
            return None
        entry.state = WaitlistEntry.State.OFFERED
        entry.offered_start, entry.offered_end = start, start + length
        entry.save(update_fields=["state", "offered_start", "offered_end", "updated_at"])
        event = waitlist_offer_event(entry.consultation, start, start + length)
        staff = list(
            station_staff(entry.consultation.station_id).values_list("external_id", flat=True)
        )
        transaction.on_commit(lambda: notify_users(staff, event), robust=True)
    return entry


def waitlist_offers_for(user: User) -> QuerySet[WaitlistEntry]:
    """Offers the user may still take (consults.access.can_check_in, as the API's take):
    booked consults, the slot still ahead."""
    return (
        WaitlistEntry.objects.filter(
            state=WaitlistEntry.State.OFFERED,
            offered_start__gt=timezone.now(),
            consultation__status=Consultation.Status.BOOKED,
            consultation__in=consultations_at_desk_of(user),
        )
        .select_related(
            "consultation__patient", "consultation__specialist", "consultation__hospital"
        )
        .order_by("offered_start", "id")
    )
