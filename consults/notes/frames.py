"""Handling of the notes socket's frames (consumer.py), as plain functions.

`handle_frame` checks the frame's shape (the same codes as the room's: `malformed`,
`unknown_type`, `unknown_field`); a handler validates the rest, calls a service and returns
the reply for the sender (or None). What every participant sees goes out from the services
(consults.realtime.send); a frame handler never calls the channel layer itself.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.fields import CharField

from clinics.audit import Via
from clinics.models import User
from consults.models import Consultation
from consults.notes import services
from consults.notes.audit import Chat, Notes, audit_read
from consults.notes.presence import note_presence_announce
from consults.notes.sections import parse_section_key
from consults.notes.selectors import chat_messages, notes_state
from consults.realtime import events
from telehealth.codes import Code
from telehealth.errors import AppError, invalid

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
    edit_id = frame.get("client_edit_id")
    if edit_id in (None, ""):
        # Required, as over REST (NoteWriteSerializer): without it a resent edit is applied twice.
        why = "required" if "client_edit_id" not in frame else "blank" if edit_id == "" else "null"
        message = CharField().error_messages[why]
        missing = invalid({"client_edit_id": [str(message)]})
        return {"type": "error", **missing.as_dict(), "client_edit_id": ""}
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
    note_presence_announce(
        consultation=session.consultation, section=key, editing=editing, actor=session.user
    )
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
    return {"type": "notes.state", **notes_state(session.consultation)}


def chat_sync(session: Session, frame: dict[str, Any]) -> Reply:
    audit_read(actor=session.user, what=Chat, consultation=session.consultation, via=session.via)
    messages = chat_messages(session.consultation)
    return {"type": "chat.state", "messages": [events.chat_payload(m) for m in messages]}


Handler = Callable[[Session, dict[str, Any]], Reply]

# Each frame type: its handler and the fields it may carry besides `type` (strict, as the
# REST serializers are: a field nobody reads is a client's mistake, not something to drop).
HANDLERS: dict[str, tuple[Handler, frozenset[str]]] = {
    "note.save": (
        note_save,
        frozenset({"section", "content", "base_revision", "client_edit_id"}),
    ),
    "note.editing": (note_editing, frozenset({"section", "editing"})),
    "notes.sync": (notes_sync, frozenset()),
    "chat.send": (chat_send, frozenset({"text", "client_msg_id"})),
    "chat.sync": (chat_sync, frozenset()),
}


def handle_frame(session: Session, frame: Any) -> Reply:
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        return events.error_frame(
            Code.MALFORMED, _("A frame is a JSON object with a string “type”.")
        )
    kind = frame["type"]
    if kind not in HANDLERS:
        return events.error_frame(Code.UNKNOWN_TYPE, _("Unknown frame type."), kind[:64])
    handler, allowed = HANDLERS[kind]
    unknown = sorted(set(frame) - allowed - {"type"})
    if unknown:
        # The REST write's answer (telehealth.serializers.StrictSerializer), as a frame.
        return events.error_frame(
            Code.UNKNOWN_FIELD,
            _("The request has fields this endpoint does not know."),
            kind,
            fields={name[:64]: [str(_("Unknown field."))] for name in unknown},
        )
    return handler(session, frame)
