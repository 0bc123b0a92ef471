"""Reminders 24 h and 15 min before a consult, to the station and the specialist.

Rows are planned when a consult is booked (or moved) and claimed by the sender with
SELECT … FOR UPDATE SKIP LOCKED: two workers never claim the same row, and a row is marked
sent in the transaction that claimed it, so a reminder goes out once.
"""

import logging
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from clinics.models import User
from clinics.selectors import station_staff_of_stations
from consults.lifecycle import ACTIVE_STATUSES
from consults.models import Consultation
from consults.scheduling.models import Reminder

logger = logging.getLogger(__name__)

LEADS = {Reminder.Kind.DAY_BEFORE: timedelta(hours=24), Reminder.Kind.SOON: timedelta(minutes=15)}


class SmsGateway(Protocol):
    def send(self, to: str, text: str) -> None: ...


class LoggingSmsGateway:
    """The default gateway: writes the SMS to the log (plug a real one in SMS_BACKEND)."""

    def send(self, to: str, text: str) -> None:
        logger.info("SMS to %s: %s", to, text)


def sms_gateway() -> SmsGateway:
    path = getattr(settings, "SMS_BACKEND", "consults.scheduling.reminders.LoggingSmsGateway")
    gateway: SmsGateway = import_string(path)()
    return gateway


def plan(consult: Consultation, *, new: bool = False) -> None:
    """(Re)plan the pending reminders of a booked consult. Inside the caller's transaction.
    `new`: the consult was just created, so it has none to replace."""
    if not new:
        Reminder.objects.filter(consultation=consult, status=Reminder.Status.PENDING).delete()
    if consult.start is None:
        return
    now = timezone.now()
    rows = []
    for kind, lead in LEADS.items():
        due = consult.start - lead
        # A 24-hour reminder for a consult booked 3 hours ahead would arrive late and
        # confuse: only reminders still in the future are planned.
        if due <= now:
            continue
        for party in Reminder.Party.values:
            for channel in Reminder.Channel.values:
                rows.append(
                    Reminder(
                        consultation=consult, kind=kind, party=party, channel=channel, due_at=due
                    )
                )
    Reminder.objects.bulk_create(rows)


def cancel(consult: Consultation) -> None:
    Reminder.objects.filter(consultation=consult, status=Reminder.Status.PENDING).update(
        status=Reminder.Status.CANCELLED
    )


def _addresses(reminder: Reminder, staff: dict[int, list[User]]) -> list[str]:
    """`staff`: the batch's stations and their staff (station_staff_of_stations)."""
    consult = reminder.consultation
    if reminder.party == Reminder.Party.SPECIALIST:
        people = [consult.specialist] if consult.specialist else []
        if reminder.channel == Reminder.Channel.SMS:
            return [p.phone for p in people if p.phone]
        return [p.email for p in people if p.email]
    if reminder.channel == Reminder.Channel.SMS:
        return [consult.station.hotline] if consult.station.hotline else []
    return [u.email for u in staff[consult.station_id] if u.email]


def _text(reminder: Reminder) -> tuple[str, str]:
    consult = reminder.consultation
    local = timezone.localtime(consult.start)
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Teleconsult reminder: %(when)s") % {"when": local.strftime("%d/%m/%Y %H:%M")}
        body = _(
            "Teleconsult on %(when)s: %(station)s with %(hospital)s (%(specialty)s). "
            "Open the telehealth page a few minutes early to test the camera."
        ) % {
            "when": local.strftime("%d/%m/%Y %H:%M"),
            "station": consult.station.name,
            "hospital": consult.hospital.name if consult.hospital else "",
            "specialty": consult.specialty.name_vi,
        }
    return subject, body


def _deliver(reminder: Reminder, staff: dict[int, list[User]]) -> str:
    to = _addresses(reminder, staff)
    if not to:
        return Reminder.Status.SKIPPED
    subject, body = _text(reminder)
    if reminder.channel == Reminder.Channel.EMAIL:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    else:
        gateway = sms_gateway()
        for number in to:
            gateway.send(number, body)
    return Reminder.Status.SENT


def _staff_for(claimed: list[Reminder]) -> dict[int, list[User]]:
    """The staff of every station the batch e-mails, in one query (not one per reminder)."""
    return station_staff_of_stations(
        r.consultation.station_id
        for r in claimed
        if r.party == Reminder.Party.STATION and r.channel == Reminder.Channel.EMAIL
    )


def send_due(*, now: datetime | None = None, batch: int = 50) -> int:
    """Send every due reminder once; returns how many rows this worker handled. A batch
    costs the same few queries however many reminders are due (claim, staff, update)."""
    handled = 0
    while True:
        with transaction.atomic():
            claimed = list(
                Reminder.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("consultation__station", "consultation__specialist")
                .select_related("consultation__hospital", "consultation__specialty")
                .filter(
                    status=Reminder.Status.PENDING,
                    due_at__lte=now or timezone.now(),
                    consultation__status__in=ACTIVE_STATUSES,
                )
                .order_by("due_at", "id")[:batch]
            )
            staff = _staff_for(claimed)
            for reminder in claimed:
                reminder.attempts += 1
                try:
                    reminder.status = _deliver(reminder, staff)
                except Exception as exc:  # a gateway failure must not stop the others
                    logger.warning("reminder %s failed: %s", reminder.pk, exc)
                    reminder.status = Reminder.Status.FAILED
                    reminder.error = str(exc)[:300]
                reminder.sent_at = timezone.now()
            Reminder.objects.bulk_update(claimed, ["status", "attempts", "error", "sent_at"])
            handled += len(claimed)
        if len(claimed) < batch:
            return handled
