"""Reads of the shared notes. Querysets come with what their serializers touch."""

from typing import Any

from django.db.models import QuerySet

from clinics.access import parse_uuid
from consults.models import Consultation
from consults.notes.models import (
    Addendum,
    Attachment,
    ChatMessage,
    NoteRevision,
    NoteSection,
    Report,
    SectionKey,
)
from consults.realtime import events


def note_sections(consultation: Consultation) -> list[NoteSection]:
    """All five sections in display order; a section never written has revision 0."""
    saved = {
        s.key: s
        for s in NoteSection.objects.filter(consultation=consultation).select_related("updated_by")
    }
    return [
        saved.get(key) or NoteSection(consultation=consultation, key=key)
        for key in SectionKey.values
    ]


def notes_state(consultation: Consultation) -> dict[str, Any]:
    """The notes as they are now: the body of `notes.state` and of the REST read."""
    signed = Report.objects.filter(consultation=consultation).exists()
    return events.notes_state(consultation, note_sections(consultation), signed=signed)


def note_history(consultation: Consultation, key: str) -> QuerySet[NoteRevision]:
    return (
        NoteRevision.objects.filter(section__consultation=consultation, section__key=key)
        .select_related("author", "section")
        .order_by("at", "id")
    )


def chat_messages(consultation: Consultation) -> QuerySet[ChatMessage]:
    return ChatMessage.objects.filter(consultation=consultation).select_related("author")


def attachments_of(consultation: Consultation) -> QuerySet[Attachment]:
    return Attachment.objects.filter(consultation=consultation).select_related("uploaded_by")


def attachment_get(consultation: Consultation, attachment_id: object) -> Attachment | None:
    return attachments_of(consultation).filter(external_id=parse_uuid(attachment_id)).first()


def report_of(consultation: Consultation) -> Report | None:
    return (
        Report.objects.filter(consultation=consultation)
        .select_related("signed_by")
        .prefetch_related("addenda__author")
        .first()
    )


def addenda_of(report: Report) -> QuerySet[Addendum]:
    return report.addenda.select_related("author")
