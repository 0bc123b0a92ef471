"""Enqueue, claim and send outbound messages; resend a dead letter.

A worker claims due rows in a short transaction (SELECT … FOR UPDATE SKIP LOCKED: two
workers never claim the same row), marking them `sending` with a lease, then sends each
and marks it in an UPDATE of its own that only lands while the lease is still its own. A
worker killed mid-send leaves its rows `sending`; once the lease is over another worker
resumes them, and the provider, given the same request id (the message id), does not
deliver it a second time.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from clinics.models import Patient, User
from clinics.selectors import patient_may_be_contacted
from consults.messaging.channels import SendError, channel_for
from consults.messaging.models import OutboundMessage
from consults.models import Consultation

logger = logging.getLogger(__name__)

Status = OutboundMessage.Status


def message_enqueue(
    *,
    channel: str,
    to: str,
    body: str,
    key: str,
    subject: str = "",
    params: dict[str, Any] | None = None,
    kind: str = "",
    consultation: Consultation | None = None,
    patient: Patient | None = None,
    not_before: datetime | None = None,
) -> OutboundMessage | None:
    """Queue one message, inside the caller's transaction (it goes out only if that commits).
    The same `key` twice is one message. A message to a patient who has not consented to be
    contacted is not queued (None)."""
    if patient is not None and not patient_may_be_contacted(patient.pk):
        return None
    message, _ = OutboundMessage.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "channel": channel,
            "to": to,
            "body": body,
            "subject": subject[:200],
            "params": params or {},
            "kind": kind,
            "consultation": consultation,
            "patient": patient,
            "next_attempt_at": not_before or timezone.now(),
        },
    )
    return message


def messages_enqueue_many(messages: Iterable[OutboundMessage]) -> None:
    """Queue several messages in one INSERT; a key already queued is skipped. The caller
    has checked any patient's consent (message_enqueue's rule)."""
    OutboundMessage.objects.bulk_create(list(messages), ignore_conflicts=True)


def messages_cancel(*, consultation: Consultation, kinds: list[str]) -> int:
    """Cancel the queued (not yet sent) messages of these kinds for a consult."""
    return OutboundMessage.objects.filter(
        consultation=consultation, kind__in=kinds, status__in=[Status.QUEUED, Status.FAILED]
    ).update(status=Status.CANCELLED)


def messages_discard(*, consultation: Consultation, kinds: list[str]) -> int:
    """Delete the unsent messages of these kinds for a consult (they are being replanned:
    their keys become free again, so a consult moved back to its old time is reminded)."""
    deleted, _ = OutboundMessage.objects.filter(
        consultation=consultation, kind__in=kinds, status__in=[Status.QUEUED, Status.FAILED]
    ).delete()
    return deleted


def message_resend(*, message: OutboundMessage, actor: User) -> bool:
    """Staff put a dead (or failed) message back in the queue, its attempts counted afresh."""
    updated = OutboundMessage.objects.filter(
        pk=message.pk, status__in=[Status.DEAD, Status.FAILED]
    ).update(status=Status.QUEUED, attempts=0, next_attempt_at=timezone.now(), error="")
    if updated:
        logger.info("message %s resent by %s", message.external_id, actor.pk)
    return bool(updated)


def _claimable(now: datetime) -> Q:
    return Q(status__in=[Status.QUEUED, Status.FAILED], next_attempt_at__lte=now) | Q(
        status=Status.SENDING, lease_until__lt=now
    )


def _claim(*, now: datetime, batch: int) -> list[OutboundMessage]:
    with transaction.atomic():
        claimed = list(
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .filter(_claimable(now))
            .order_by("next_attempt_at", "id")[:batch]
        )
        lease_until = timezone.now() + timedelta(seconds=settings.MESSAGES_LEASE_SECONDS)
        OutboundMessage.objects.filter(pk__in=[m.pk for m in claimed]).update(
            status=Status.SENDING, lease_until=lease_until, attempts=F("attempts") + 1
        )
    for message in claimed:
        message.lease_until = lease_until
        message.attempts += 1
    return claimed


def _backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … retry periods after each failure, at most an hour."""
    return timedelta(seconds=min(settings.MESSAGES_RETRY_SECONDS * 2 ** (attempts - 1), 3600))


def _send(message: OutboundMessage) -> str:
    mine = OutboundMessage.objects.filter(
        pk=message.pk, status=Status.SENDING, lease_until=message.lease_until
    )
    # The consent may have been withdrawn since the message was queued.
    if message.patient_id is not None and not patient_may_be_contacted(message.patient_id):
        mine.update(status=Status.CANCELLED, error="no consent to be contacted", lease_until=None)
        return Status.CANCELLED
    try:
        sent = channel_for(message).send(message)
    except SendError as exc:
        logger.warning("message %s failed (attempt %s): %s", message.pk, message.attempts, exc)
        dead = message.attempts >= settings.MESSAGES_MAX_ATTEMPTS
        status = Status.DEAD if dead else Status.FAILED
        mine.update(
            status=status,
            error=str(exc)[:300],
            lease_until=None,
            next_attempt_at=timezone.now() + _backoff(message.attempts),
        )
        return status
    mine.update(
        status=Status.SENT,
        provider=sent.provider,
        provider_id=sent.provider_id,
        sent_at=timezone.now(),
        error="",
        lease_until=None,
    )
    return Status.SENT


def send_due(*, now: datetime | None = None, batch: int = 50) -> dict[str, int]:
    """Send every due message once; returns how many ended in each status. Call it outside
    any transaction: each mark must commit as soon as its message is sent."""
    counts: dict[str, int] = {}
    while True:
        claimed = _claim(now=now or timezone.now(), batch=batch)
        for message in claimed:
            # A worker slower than its lease stops: the rest may already be another's.
            if message.lease_until is None or timezone.now() >= message.lease_until:
                logger.warning("message lease ran out; %s left for another worker", message.pk)
                return counts
            status = _send(message)
            counts[status] = counts.get(status, 0) + 1
        if len(claimed) < batch:
            return counts
