"""Telling people something happened: an e-mail (when they have an address), queued for the
message worker so that no request waits on the mail server (docs/messages.md), and an event
on their live feed, /ws/notifications/ (docs/signaling.md). Both on commit.

The feed's group names and message type belong to consults.realtime (`user_notify`), the
one place the notifications socket takes them from: a second naming scheme here once sent
every store-and-forward event to a group nobody listened on.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from clinics.models import User
from consults.messaging.models import OutboundMessage
from consults.messaging.queue import message_enqueue
from consults.realtime.send import user_notify


def _send(users: list[User], subject: str, body: str, event: dict[str, Any]) -> None:
    for user in users:
        if user.email:
            message_enqueue(
                channel=OutboundMessage.Channel.EMAIL,
                to=user.email,
                subject=subject,
                body=body,
                kind="notice",
                key=f"notice:{uuid.uuid4()}",
            )
        user_notify(user.external_id, event)


def notify_on_commit(
    users: Iterable[User], *, subject: str, body: str, event: dict[str, Any]
) -> None:
    """`event` is a feed event from consults.realtime.events (`{"type", "consultation", …}`).
    Robust: the write has committed, so a channel layer that is down must not turn it into
    an error the client would retry."""
    recipients = list({u.pk: u for u in users}.values())
    transaction.on_commit(lambda: _send(recipients, subject, body, event), robust=True)
