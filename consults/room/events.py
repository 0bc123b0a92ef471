"""Payload builders and group addressing for the room and the notifications feed.

Sync helpers here are for services (call them on commit); consumers use the layer directly.
Services register them with `transaction.on_commit(…, robust=True)`: once the write has
committed, a channel layer that is down must not turn it into an error the client would see
(and retry); Django logs the failure, and sockets catch up by `resync`.
"""

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from consults.models import Consultation
from consults.room.access import Participant
from consults.room.models import RoomPeer
from consults.room.turn import ice_servers_for

if TYPE_CHECKING:  # presence sends its status events through this module
    from consults.room.presence import JoinResult


def room_group(consultation_id: Any) -> str:
    return f"room.{str(consultation_id).replace('-', '')}"


def user_group(user_external_id: Any) -> str:
    return f"user.{str(user_external_id).replace('-', '')}"


def session_group(session_key: str) -> str:
    """Every socket opened with one browser session (the key itself never goes to Redis)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:32]


def session_sockets_close(session_key: str) -> None:
    """A logout ends the sockets of that browser session: room, notes, notifications (4401).

    The logout itself must succeed with the channel layer down; its sockets then end when
    their next frame meets the flushed session, or at the room's next access check."""
    try:
        _group_send(session_group(session_key), {"type": "session.ended"})
    except Exception:  # a logout is never refused because Redis is away
        logging.getLogger(__name__).exception("could not close the sockets of a logged-out session")


def consultation_payload(consult: Consultation) -> dict[str, Any]:
    return {"id": str(consult.external_id), "status": consult.status}


def consultation_feed_payload(consult: Consultation) -> dict[str, Any]:
    """What the specialist's waiting list shows (no clinical detail beyond the name)."""
    return {
        "id": str(consult.external_id),
        "status": consult.status,
        "patient": consult.patient.full_name,
        "station": consult.station.name,
        "start": consult.start.isoformat() if consult.start else None,
    }


def waitlist_offer_event(consult: Consultation, start: datetime, end: datetime) -> dict[str, Any]:
    """An earlier slot is free for a consult on the waitlist: its station may take it."""
    return {
        "type": "waitlist_offer",
        "consultation": consultation_feed_payload(consult),
        "offer": {"start": start.isoformat(), "end": end.isoformat()},
    }


def _group_send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)


def room_broadcast(consultation_id: Any, frame: dict[str, Any]) -> None:
    """Send a server frame to everyone in a consult's room (from a service, on commit)."""
    _group_send(room_group(consultation_id), {"type": "room.frame", "frame": frame})


def room_kick(consultation_id: Any, member: str) -> None:
    """Close a participant's connection with 4403 (access revoked)."""
    _group_send(room_group(consultation_id), {"type": "room.kick", "member": member})


def user_notify(user_external_id: Any, event: dict[str, Any]) -> None:
    """Send an event to one user's live feed, /ws/notifications/ (from a service, on commit)."""
    _group_send(user_group(user_external_id), {"type": "notify.event", "event": event})


def room_status_changed(consult: Consultation) -> None:
    """Tell the room and the specialist's feed that the consult moved."""
    room_broadcast(
        consult.external_id, {"type": "status", "consultation": consultation_payload(consult)}
    )
    if consult.specialist is not None:
        kind = "consult_waiting" if consult.status == Consultation.Status.CHECKED_IN else None
        user_notify(
            consult.specialist.external_id,
            {"type": kind or "consult_status", "consultation": consultation_feed_payload(consult)},
        )


def notify_users(user_external_ids: Iterable[Any], event: dict[str, Any]) -> None:
    """Send one event to each user's live feed, /ws/notifications/ (from a service, on commit)."""
    for user_id in user_external_ids:
        _group_send(user_group(user_id), {"type": "notify.event", "event": event})


def peer_payload(row: RoomPeer, *, polite: bool) -> dict[str, Any]:
    """A peer as the room's frames show it; `polite` is the receiver's role towards it."""
    return {"peer": row.peer_id, "role": row.role, "name": row.name, "polite": polite}


def welcome_frame(
    *, peer: str, participant: Participant, join: "JoinResult", limits: dict[str, int]
) -> dict[str, Any]:
    """The answer to `hello` (docs/signaling.md): who I am, who is here, how to connect.
    The newcomer is the polite side towards everyone already in the room."""
    return {
        "type": "welcome",
        "peer": peer,
        "role": participant.role,
        "name": participant.name,
        "polite": bool(join.peers),
        "peers": [peer_payload(p, polite=True) for p in join.peers],
        "consultation": consultation_payload(join.consultation),
        "ice_servers": ice_servers_for(peer),
        "rev": join.rev,
        "heartbeat_s": 10,
        "limits": limits,
    }
