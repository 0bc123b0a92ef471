"""Every frame the notes send is built here, in one place: over the notes socket, and the
store-and-forward events on a user's /ws/notifications/ feed (shaped like the feed's own).

Sent on commit, so a participant never sees a write that was rolled back.
"""

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

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
from consults.notes.selectors import note_sections
from consults.room.events import consultation_feed_payload

PRESENCE_TTL_SECONDS = 8


def notes_group(consultation: Consultation) -> str:
    return f"consult-notes-{consultation.external_id.hex}"


def person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": str(user.external_id), "name": user.display_name}


def section_payload(section: NoteSection) -> dict[str, Any]:
    return {
        "section": section.key,
        "revision": section.revision,
        "content": section.content,
        "updated_by": person(section.updated_by),
        "updated_at": section.updated_at.isoformat() if section.pk and section.revision else None,
    }


def note_updated(section: NoteSection, revision: NoteRevision) -> dict[str, Any]:
    return {
        "type": "note.updated",
        **section_payload(section),
        "client_edit_id": revision.client_edit_id,
    }


def note_presence(user: User, section: str, editing: bool) -> dict[str, Any]:
    return {
        "type": "note.presence",
        "user": person(user),
        "section": section,
        "editing": editing,
        "ttl": PRESENCE_TTL_SECONDS,
    }


def chat_payload(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": str(message.external_id),
        "author": person(message.author),
        "text": message.text,
        "at": message.created_at.isoformat(),
        "client_msg_id": message.client_msg_id,
    }


def chat_message(message: ChatMessage) -> dict[str, Any]:
    return {"type": "chat.message", **chat_payload(message)}


def attachment_payload(attachment: Attachment) -> dict[str, Any]:
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


def attachment_added(attachment: Attachment) -> dict[str, Any]:
    return {"type": "attachment.added", **attachment_payload(attachment)}


def report_signed(report: Report) -> dict[str, Any]:
    return {
        "type": "report.signed",
        "report_id": str(report.external_id),
        "signed_by": person(report.signed_by),
        "signed_at": report.signed_at.isoformat(),
    }


def feed_case_submitted(case: AsyncCase) -> dict[str, Any]:
    """For the specialist's /ws/notifications/ feed: a store-and-forward case to answer."""
    return {
        "type": "case_submitted",
        "consultation": consultation_feed_payload(case.consultation),
        "due_at": case.due_at.isoformat(),
    }


def feed_report_signed(report: Report) -> dict[str, Any]:
    """For the station staff's /ws/notifications/ feed: the specialist signed the report."""
    return {
        "type": "report_signed",
        "consultation": consultation_feed_payload(report.consultation),
        "report_id": str(report.external_id),
        "signed_at": report.signed_at.isoformat(),
    }


def error_frame(code: str, message: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": str(message), **extra}


def broadcast_now(consultation: Consultation, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(
            notes_group(consultation), {"type": "notes.event", "payload": payload}
        )


def broadcast_on_commit(consultation: Consultation, payload: dict[str, Any]) -> None:
    transaction.on_commit(lambda: broadcast_now(consultation, payload), robust=True)


def notes_state(consultation: Consultation) -> dict[str, Any]:
    return {
        "consultation": str(consultation.external_id),
        "mode": consultation.mode,
        "signed": Report.objects.filter(consultation=consultation).exists(),
        "sections": [section_payload(s) for s in note_sections(consultation)],
    }
