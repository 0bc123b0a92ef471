"""Reminders 24 h and 15 min before a consult, to the station and the specialist.

Rows are planned when a consult is booked (or moved). A sender claims due rows in a short
transaction (SELECT … FOR UPDATE SKIP LOCKED, so two workers never claim the same row), marking
them `sending` with a lease; it then sends each one and marks it in a transaction of its own.
A message that went out is never rolled back into `pending` by a crash later in the batch.
A worker that dies leaves its unsent rows `sending`: once the lease is over another worker sends
them. Only a crash between a send and its mark sends that one reminder twice (at least once).
"""

import logging
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from clinics.models import User
from clinics.selectors import station_staff_of_stations
from consults.lifecycle import ACTIVE_STATUSES
from consults.messaging import patient as patient_messages
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
    path = settings.SMS_BACKEND
    gateway: SmsGateway = import_string(path)()
    return gateway


def _unclaimed(now: datetime) -> Q:
    """Rows in no worker's hands: pending, or claimed by a worker whose lease is over."""
    return Q(status=Reminder.Status.PENDING) | Q(
        status=Reminder.Status.SENDING, lease_until__lt=now
    )


def plan(consult: Consultation, *, new: bool = False) -> None:
    """(Re)plan the pending reminders of a booked consult. Inside the caller's transaction.
    `new`: the consult was just created, so it has none to replace."""
    if not new:
        Reminder.objects.filter(_unclaimed(timezone.now()), consultation=consult).delete()
    # The patient's own reminders go through the message queue (docs/messages.md).
    patient_messages.patient_reminders_plan(consult, new=new)
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
    patient_messages.patient_reminders_cancel(consult)
    Reminder.objects.filter(_unclaimed(timezone.now()), consultation=consult).update(
        status=Reminder.Status.CANCELLED, lease_until=None
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


def _claim(*, now: datetime, batch: int) -> list[Reminder]:
    """Lease up to `batch` due rows to this worker, in one short transaction."""
    with transaction.atomic():
        claimed = list(
            Reminder.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("consultation__station", "consultation__specialist")
            .select_related("consultation__hospital", "consultation__specialty")
            .filter(
                _unclaimed(now),
                due_at__lte=now,
                consultation__status__in=ACTIVE_STATUSES,
            )
            .order_by("due_at", "id")[:batch]
        )
        lease_until = timezone.now() + timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
        Reminder.objects.filter(pk__in=[r.pk for r in claimed]).update(
            status=Reminder.Status.SENDING, lease_until=lease_until, attempts=F("attempts") + 1
        )
    for reminder in claimed:
        reminder.lease_until = lease_until
    return claimed


def _send(reminder: Reminder, staff: dict[int, list[User]]) -> None:
    """Send one claimed reminder, then mark it (an UPDATE of its own, committed at once)."""
    error = ""
    try:
        status = _deliver(reminder, staff)
    except Exception as exc:  # a gateway failure must not stop the others
        logger.warning("reminder %s failed: %s", reminder.pk, exc)
        status, error = Reminder.Status.FAILED, str(exc)[:300]
    # Only while the lease is still this worker's: a retried row is the other worker's to mark.
    Reminder.objects.filter(
        pk=reminder.pk, status=Reminder.Status.SENDING, lease_until=reminder.lease_until
    ).update(status=status, error=error, sent_at=timezone.now(), lease_until=None)


def send_due(*, now: datetime | None = None, batch: int = 50) -> int:
    """Send every due reminder once; returns how many rows this worker handled.

    Call it outside any transaction: each mark must commit as soon as its message is sent.
    A batch costs the same few queries however many reminders are due (claim, staff), plus
    one UPDATE per reminder sent.
    """
    handled = 0
    while True:
        claimed = _claim(now=now or timezone.now(), batch=batch)
        staff = _staff_for(claimed)
        for reminder in claimed:
            # A worker slower than its lease stops: the rest may already be another's.
            if reminder.lease_until is None or timezone.now() >= reminder.lease_until:
                logger.warning("reminder lease ran out; %s left for a retry", reminder.pk)
                return handled
            _send(reminder, staff)
            handled += 1
        if len(claimed) < batch:
            return handled
