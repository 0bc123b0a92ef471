"""Handling of the notes' frames on a consult socket, as plain functions.

The consult room consumer dispatches `HANDLERS[frame["type"]]`; so does the notes-only
consumer (consumer.py). A handler validates the frame, calls a service and returns the
reply for the sender (or None); what every participant sees goes out from the services,
on commit, through events.py.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from clinics.audit import Via
from clinics.models import User
from consults.models import Consultation
from consults.notes import events, services
from consults.notes.audit import Chat, Notes, audit_read
from consults.notes.sections import parse_section_key
from consults.notes.selectors import chat_messages
from telehealth.errors import AppError

PRESENCE_DEBOUNCE_SECONDS = 2.0


@dataclass
class Session:
    """One participant's connection: who, which consult, and presence already announced."""

    user: User
    consultation: Consultation
    via: Via
    presence: dict[str, tuple[bool, float]] = field(default_factory=dict)


Reply = dict[str, Any] | None


def note_save(session: Session, frame: dict[str, Any]) -> Reply:
    edit_id = frame.get("client_edit_id", "")
    try:
        saved = services.note_save(
            consultation=session.consultation,
            section=frame.get("section"),
            content=frame.get("content"),
            base_revision=frame.get("base_revision"),
            client_edit_id=edit_id,
            actor=session.user,
            via=session.via,
        )
    except AppError as exc:
        return {"type": "error", **exc.as_dict(), "client_edit_id": edit_id}
    reply: dict[str, Any] = {
        "type": "note.saved",
        "section": saved.section.key,
        "revision": saved.revision.number,
        "client_edit_id": saved.revision.client_edit_id,
        "replayed": saved.replayed,
        "current_revision": saved.section.revision,
    }
    if saved.replayed:
        reply["current"] = events.section_payload(saved.section)
    return reply


def note_editing(session: Session, frame: dict[str, Any]) -> Reply:
    """Who is editing which section. Debounced: a repeat of the same state within two
    seconds is not rebroadcast (typing sends one per keystroke burst)."""
    try:
        key = parse_section_key(frame.get("section"))
    except AppError as exc:
        return {"type": "error", **exc.as_dict()}
    editing = frame.get("editing", True) is not False
    now = time.monotonic()
    last = session.presence.get(key)
    if last and last[0] == editing and now - last[1] < PRESENCE_DEBOUNCE_SECONDS:
        return None
    session.presence[key] = (editing, now)
    events.broadcast_now(session.consultation, events.note_presence(session.user, key, editing))
    return None


def chat_send(session: Session, frame: dict[str, Any]) -> Reply:
    msg_id = frame.get("client_msg_id", "")
    try:
        posted = services.chat_post(
            consultation=session.consultation,
            text=frame.get("text"),
            client_msg_id=msg_id,
            actor=session.user,
            via=session.via,
        )
    except AppError as exc:
        return {"type": "error", **exc.as_dict(), "client_msg_id": msg_id}
    return {
        "type": "chat.sent",
        "id": str(posted.message.external_id),
        "client_msg_id": msg_id,
        "replayed": posted.replayed,
    }


def notes_sync(session: Session, frame: dict[str, Any]) -> Reply:
    """The full current state: sent on connect and whenever a client saw a gap."""
    audit_read(actor=session.user, what=Notes, consultation=session.consultation, via=session.via)
    return {"type": "notes.state", **events.notes_state(session.consultation)}


def chat_sync(session: Session, frame: dict[str, Any]) -> Reply:
    audit_read(actor=session.user, what=Chat, consultation=session.consultation, via=session.via)
    messages = chat_messages(session.consultation)
    return {"type": "chat.state", "messages": [events.chat_payload(m) for m in messages]}


HANDLERS: dict[str, Callable[[Session, dict[str, Any]], Reply]] = {
    "note.save": note_save,
    "note.editing": note_editing,
    "notes.sync": notes_sync,
    "chat.send": chat_send,
    "chat.sync": chat_sync,
}


def handle_frame(session: Session, frame: Any) -> Reply:
    if not isinstance(frame, dict) or frame.get("type") not in HANDLERS:
        return events.error_frame("unknown_frame", _("Unknown message type."))
    return HANDLERS[frame["type"]](session, frame)
