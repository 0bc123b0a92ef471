"""Sending events to sockets: on commit from services, at once for what is ephemeral.

The Zulip model (`send_event_on_commit`): a service sends an event only once its write has
committed, so nobody sees a change that was rolled back. `robust=True`: once the write has
committed, a channel layer that is down must not turn it into an error the client would see
(and retry); Django logs the failure, and sockets catch up by `resync` / `notes.sync`.
Outside a transaction `on_commit` runs at once, so a caller that already waits for the
commit may call these too.
"""

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from consults.realtime import events
from consults.realtime.groups import notes_group, room_group, session_group, user_group

if TYPE_CHECKING:
    from consults.models import Consultation

log = logging.getLogger(__name__)

CHECKED_IN = "checked_in"  # Consultation.Status.CHECKED_IN: realtime imports no model


def send_now(group: str, message: dict[str, Any]) -> None:
    """Send at once: for what is never written (who is typing), or already committed."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)


def send_on_commit(group: str, message: dict[str, Any]) -> None:
    """Send once the current transaction commits (at once outside one)."""
    # A function, not a partial: Django logs a robust hook's failure by its __qualname__.
    transaction.on_commit(lambda: send_now(group, message), robust=True)


def room_broadcast(consultation_id: Any, frame: dict[str, Any]) -> None:
    """A server frame for everyone in a consult's room."""
    send_on_commit(room_group(consultation_id), {"type": "room.frame", "frame": frame})


def room_kick(consultation_id: Any, member: str) -> None:
    """Close a participant's room connection with 4403 (access revoked)."""
    send_on_commit(room_group(consultation_id), {"type": "room.kick", "member": member})


def user_notify(user_external_id: Any, event: dict[str, Any]) -> None:
    """An event on one user's live feed, /ws/notifications/."""
    send_on_commit(user_group(user_external_id), {"type": "notify.event", "event": event})


def notify_users(user_external_ids: Iterable[Any], event: dict[str, Any]) -> None:
    for user_id in user_external_ids:
        user_notify(user_id, event)


def notes_broadcast(consultation_id: Any, frame: dict[str, Any]) -> None:
    """A frame for every notes socket of a consult, on commit."""
    send_on_commit(notes_group(consultation_id), notes_message(frame))


def notes_message(frame: dict[str, Any]) -> dict[str, Any]:
    return {"type": "notes.event", "payload": frame}


def room_status_changed(consult: "Consultation") -> None:
    """Tell the room and the specialist's feed that the consult moved."""
    room_broadcast(consult.external_id, events.status_frame(consult))
    if consult.specialist is not None:
        waiting = consult.status == CHECKED_IN
        user_notify(
            consult.specialist.external_id, events.feed_status_event(consult, waiting=waiting)
        )


def session_sockets_close(session_key: str) -> None:
    """A logout ends the sockets of that browser session: room, notes, notifications (4401).

    The logout itself must succeed with the channel layer down; its sockets then end at
    their next re-check, which finds no session (`logged_out`, consults.realtime.guard)."""
    try:
        send_now(session_group(session_key), {"type": "session.ended"})
    except Exception:  # a logout is never refused because Redis is away
        log.exception("could not close the sockets of a logged-out session")
