"""Every frame the server sends, built here: the room's, the notes', the live feed's.

Pure functions of what they are given (model types are for the type checker only), so any
capability may build a frame and realtime depends on none of them. Sending is `send.py`.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from telehealth.codes import Code

if TYPE_CHECKING:
    from clinics.models import User
    from consults.models import Consultation
    from consults.notes.models import (
        AsyncCase,
        Attachment,
        ChatMessage,
        NoteRevision,
        NoteSection,
        Report,
    )
    from consults.room.access import Participant
    from consults.room.models import RoomPeer
    from consults.room.presence import JoinResult

PRESENCE_TTL_SECONDS = 8


def error_frame(code: Code, message: Any, ref: str | None = None, **extra: Any) -> dict[str, Any]:
    """The one error frame of every socket: `code` is stable, `message` is for people,
    `ref` names the frame type it answers (docs/signaling.md "Errors")."""
    return {"type": "error", "code": code, "message": str(message), "ref": ref, **extra}


# --- consults and the live feed ------------------------------------------------------------


def consultation_payload(consult: "Consultation") -> dict[str, Any]:
    return {"id": str(consult.external_id), "status": consult.status}


def consultation_feed_payload(consult: "Consultation") -> dict[str, Any]:
    """What the specialist's waiting list shows (no clinical detail beyond the name)."""
    return {
        "id": str(consult.external_id),
        "status": consult.status,
        "patient": consult.patient.full_name,
        "station": consult.station.name,
        "start": consult.start.isoformat() if consult.start else None,
    }


def status_frame(consult: "Consultation") -> dict[str, Any]:
    """The room's `status` frame: the consult moved."""
    return {"type": "status", "consultation": consultation_payload(consult)}


def feed_status_event(consult: "Consultation", *, waiting: bool) -> dict[str, Any]:
    """The specialist's feed: a patient is now waiting, or a consult changed status."""
    kind = "consult_waiting" if waiting else "consult_status"
    return {"type": kind, "consultation": consultation_feed_payload(consult)}


def waitlist_offer_event(consult: "Consultation", start: datetime, end: datetime) -> dict[str, Any]:
    """An earlier slot is free for a consult on the waitlist: its station may take it."""
    return {
        "type": "waitlist_offer",
        "consultation": consultation_feed_payload(consult),
        "offer": {"start": start.isoformat(), "end": end.isoformat()},
    }


def feed_snapshot(waiting: Iterable["Consultation"]) -> dict[str, Any]:
    return {"type": "snapshot", "waiting": [consultation_feed_payload(c) for c in waiting]}


# --- the room ------------------------------------------------------------------------------


def peer_payload(row: "RoomPeer", *, polite: bool) -> dict[str, Any]:
    """A peer as the room's frames show it; `polite` is the receiver's role towards it."""
    return {"peer": row.peer_id, "role": row.role, "name": row.name, "polite": polite}


def welcome_frame(
    *,
    peer: str,
    participant: "Participant",
    join: "JoinResult",
    ice_servers: list[dict[str, Any]],
    heartbeat_s: int,
    limits: dict[str, int],
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
        "ice_servers": ice_servers,
        "rev": join.rev,
        "heartbeat_s": heartbeat_s,
        "limits": limits,
    }


def room_frame(
    peers: Iterable["RoomPeer"], *, mine: int, consultation_id: str, status: str, rev: int
) -> dict[str, Any]:
    """The answer to `resync`: the room as it is now."""
    return {
        "type": "room",
        "peers": [peer_payload(p, polite=p.joined_rev < mine) for p in peers],
        "consultation": {"id": consultation_id, "status": status},
        "rev": rev,
    }


def peer_joined_frame(row: "RoomPeer", rev: int) -> dict[str, Any]:
    return {"type": "peer_joined", **peer_payload(row, polite=False), "rev": rev}


def peer_left_frame(peer: str, reason: str, rev: int) -> dict[str, Any]:
    return {"type": "peer_left", "peer": peer, "reason": reason, "rev": rev}


# --- notes and chat ------------------------------------------------------------------------


def person(user: "User | None") -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": str(user.external_id), "name": user.display_name}


def section_payload(section: "NoteSection") -> dict[str, Any]:
    return {
        "section": section.key,
        "revision": section.revision,
        "content": section.content,
        "updated_by": person(section.updated_by),
        "updated_at": section.updated_at.isoformat() if section.pk and section.revision else None,
    }


def note_updated(section: "NoteSection", revision: "NoteRevision") -> dict[str, Any]:
    return {
        "type": "note.updated",
        **section_payload(section),
        "client_edit_id": revision.client_edit_id,
    }


def note_presence(user: "User", section: str, editing: bool) -> dict[str, Any]:
    return {
        "type": "note.presence",
        "user": person(user),
        "section": section,
        "editing": editing,
        "ttl": PRESENCE_TTL_SECONDS,
    }


def chat_payload(message: "ChatMessage") -> dict[str, Any]:
    return {
        "id": str(message.external_id),
        "author": person(message.author),
        "text": message.text,
        "at": message.created_at.isoformat(),
        "client_msg_id": message.client_msg_id,
    }


def chat_message(message: "ChatMessage") -> dict[str, Any]:
    return {"type": "chat.message", **chat_payload(message)}


def attachment_payload(attachment: "Attachment") -> dict[str, Any]:
    return {
        "id": str(attachment.external_id),
        "kind": attachment.kind,
        "content_type": attachment.content_type,
        "name": attachment.original_name,
        "caption": attachment.caption,
        "size": attachment.size,
        "has_thumbnail": bool(attachment.thumbnail_name),
        "uploaded_by": person(attachment.uploaded_by),
        "at": attachment.created_at.isoformat(),
    }


def attachment_added(attachment: "Attachment") -> dict[str, Any]:
    return {"type": "attachment.added", **attachment_payload(attachment)}


def report_signed(report: "Report") -> dict[str, Any]:
    return {
        "type": "report.signed",
        "report_id": str(report.external_id),
        "signed_by": person(report.signed_by),
        "signed_at": report.signed_at.isoformat(),
    }


def feed_case_submitted(case: "AsyncCase") -> dict[str, Any]:
    """For the specialist's /ws/notifications/ feed: a store-and-forward case to answer."""
    return {
        "type": "case_submitted",
        "consultation": consultation_feed_payload(case.consultation),
        "due_at": case.due_at.isoformat(),
    }


def feed_report_signed(report: "Report") -> dict[str, Any]:
    """For the station staff's /ws/notifications/ feed: the specialist signed the report."""
    return {
        "type": "report_signed",
        "consultation": consultation_feed_payload(report.consultation),
        "report_id": str(report.external_id),
        "signed_at": report.signed_at.isoformat(),
    }


def notes_state(
    consultation: "Consultation", sections: Iterable["NoteSection"], *, signed: bool
) -> dict[str, Any]:
    """The notes as they are now (the body of `notes.state`, and the REST read)."""
    return {
        "consultation": str(consultation.external_id),
        "mode": consultation.mode,
        "signed": signed,
        "sections": [section_payload(s) for s in sections],
    }
