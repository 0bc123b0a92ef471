"""Telling people something happened: an e-mail (when they have an address) and a frame on
their personal live feed group (`/ws/notifications/`, see docs/notes.md). Sent on commit."""

from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.mail import send_mail
from django.db import transaction

from clinics.models import User


def user_group(user: User) -> str:
    return f"user-{user.external_id.hex}"


def _send(users: list[User], subject: str, body: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    for user in users:
        if user.email:
            send_mail(subject, body, None, [user.email], fail_silently=True)
        if layer is not None:
            async_to_sync(layer.group_send)(
                user_group(user), {"type": "notify", "payload": payload}
            )


def notify_on_commit(
    users: Iterable[User], *, subject: str, body: str, payload: dict[str, Any]
) -> None:
    recipients = list({u.pk: u for u in users}.values())
    transaction.on_commit(lambda: _send(recipients, subject, body, payload))
