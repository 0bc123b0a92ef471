"""Writes of the shared notes and the chat. Each owns its transaction, its audit entry and
its broadcast (on commit)."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from clinics.audit import Via, audit_record
from clinics.models import AuditEntry, User
from consults.models import Consultation
from consults.notes.models import ChatMessage, NoteRevision, NoteSection, Report, SectionKey
from consults.notes.sections import clean_content, parse_section_key
from consults.realtime import events
from consults.realtime.send import notes_broadcast
from telehealth.codes import Code
from telehealth.errors import AppError, invalid
from telehealth.storable import INT_MAX, require_storable

CHAT_LIMIT = 2_000
CLIENT_ID_LIMIT = 64


def report_signed_error() -> AppError:
    return AppError(
        Code.REPORT_SIGNED,
        _("The report is signed: it cannot change. Add an addendum instead."),
        status=409,
    )


def lock_for_notes(consultation: Consultation, *, unsigned: bool = True) -> Consultation:
    """Every notes write locks the consult row: signing takes the same lock, so no write
    can slip in between the report's snapshot and its signature."""
    locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if unsigned:
        refuse_if_signed(locked)
    return locked


def refuse_if_signed(consultation: Consultation) -> None:
    # A statement of its own, after the lock: under READ COMMITTED it sees a report that
    # was committed while we waited (a subquery in the locking SELECT would not).
    if Report.objects.filter(consultation=consultation).exists():
        raise report_signed_error()


def note_sections_ensure(consultation: Consultation) -> None:
    NoteSection.objects.bulk_create(
        [NoteSection(consultation=consultation, key=key) for key in SectionKey.values],
        ignore_conflicts=True,
    )


def _client_id(value: Any, name: str) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or len(value) > CLIENT_ID_LIMIT:
        raise invalid({name: [str(_("At most 64 characters of text."))]})
    return value


def _section_for_update(consultation: Consultation, key: str) -> NoteSection:
    rows = NoteSection.objects.select_for_update(of=("self",)).select_related("updated_by")
    try:
        return rows.get(consultation=consultation, key=key)
    except NoteSection.DoesNotExist:
        note_sections_ensure(consultation)
        return rows.get(consultation=consultation, key=key)


def _replay_audited(
    *,
    client_id: dict[str, str],
    first_author_id: int,
    same_request: bool,
    shown: NoteSection | ChatMessage,
    consultation: Consultation,
    actor: User,
    via: Via,
) -> None:
    """A retry under a client id whose write already happened is answered with that first
    write, never written again: a read of what the answer shows, audited as one (as an
    Idempotency-Key replay, docs/architecture.md). Access is the caller's precondition, as
    for the write: it is checked on every request and socket frame before this runs, so a
    user who lost the consult gets the refusal a fresh write would.

    The id must come back with the same request: from another author, or with other
    content, it names another write, which is refused (409 `idempotency_key_reused`)
    rather than answered with a result its sender did not produce. The refusal names the id
    (`client_id`), as `note_conflict` does."""
    if first_author_id != actor.pk or not same_request:
        raise AppError(
            Code.IDEMPOTENCY_KEY_REUSED,
            _("This id was already used for a different edit or message."),
            status=409,
            extra=client_id,
        )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.READ,
        obj=shown,
        patient=consultation.patient,
        via=via,
    )


@dataclass(frozen=True)
class NoteSaved:
    """`revision` is this edit's own (on a replay: the first save's, whatever came since);
    `section` is the section as it is now."""

    section: NoteSection
    revision: NoteRevision
    replayed: bool


def note_save(
    *,
    consultation: Consultation,
    section: Any,
    content: Any,
    base_revision: Any,
    client_edit_id: Any = "",
    actor: User,
    via: Via,
) -> NoteSaved:
    """Apply one edit of one section, if it was based on the current revision.

    Preconditions: `actor` may write this consult (notes_get_for_writer). A retry with
    the same `client_edit_id` returns the first save's revision and writes nothing (its
    answer also shows the section now, which may have moved on since). A stale
    `base_revision` records the refused attempt (with its author and text) and raises
    409 `note_conflict` carrying the current section, so the writer can merge.
    """
    require_storable({"content": content, "client_edit_id": client_edit_id})
    key = parse_section_key(section)
    clean = clean_content(key, content)
    if (
        isinstance(base_revision, bool)
        or not isinstance(base_revision, int)
        or not 0 <= base_revision <= INT_MAX
    ):
        raise invalid({"base_revision": [str(_("Must be a revision number (0 or more)."))]})
    edit_id = _client_id(client_edit_id, "client_edit_id")
    with transaction.atomic():
        locked = lock_for_notes(consultation, unsigned=False)
        row = _section_for_update(consultation, key)
        if edit_id:
            done = (
                NoteRevision.objects.filter(
                    section=row, client_edit_id=edit_id, outcome=NoteRevision.Outcome.APPLIED
                )
                .select_related("author")
                .first()
            )
            if done is not None:
                _replay_audited(
                    client_id={"client_edit_id": edit_id},
                    first_author_id=done.author_id,
                    same_request=(done.content, done.base_revision) == (clean, base_revision),
                    shown=row,
                    consultation=consultation,
                    actor=actor,
                    via=via,
                )
                return NoteSaved(row, done, replayed=True)
        # After the replay check: an edit applied before sign-off, resent after, is a success.
        refuse_if_signed(locked)
        stale = base_revision != row.revision
        revision = NoteRevision.objects.create(
            section=row,
            number=None if stale else row.revision + 1,
            base_revision=base_revision,
            outcome=NoteRevision.Outcome.CONFLICT if stale else NoteRevision.Outcome.APPLIED,
            content=clean,
            author=actor,
            client_edit_id=edit_id,
            channel=via.channel,
        )
        if stale:
            # The refused author is shown the current text: that is a read.
            audit_record(
                actor=actor,
                action=AuditEntry.Action.READ,
                obj=row,
                patient=consultation.patient,
                via=via,
            )
        else:
            row.revision += 1
            row.content = clean
            row.updated_by = actor
            row.save(update_fields=["revision", "content", "updated_by", "updated_at"])
            audit_record(
                actor=actor,
                action=AuditEntry.Action.UPDATE,
                obj=row,
                patient=consultation.patient,
                via=via,
            )
            notes_broadcast(consultation.external_id, events.note_updated(row, revision))
    if stale:
        raise AppError(
            Code.NOTE_CONFLICT,
            _("Someone saved this section after you started editing. Compare and merge."),
            status=409,
            extra={
                "section": key,
                "current": events.section_payload(row),
                "yours": {"content": clean, "base_revision": base_revision},
                "client_edit_id": edit_id,
            },
        )
    return NoteSaved(row, revision, replayed=False)


@dataclass(frozen=True)
class ChatPosted:
    message: ChatMessage
    replayed: bool


def chat_post(
    *, consultation: Consultation, text: Any, client_msg_id: Any = "", actor: User, via: Via
) -> ChatPosted:
    """Post a chat line. Preconditions: `actor` may write this consult
    (notes_get_for_writer). The same `client_msg_id` never posts twice: its retry answers
    the first message. After sign-off the chat is part of the closed record (the report
    holds its last lines): a new line is 409 `report_signed`, as any notes write."""
    require_storable({"text": text, "client_msg_id": client_msg_id})
    if not isinstance(text, str) or not text.strip():
        raise invalid({"text": [str(_("Write a message."))]})
    if len(text) > CHAT_LIMIT:
        raise invalid({"text": [str(_("At most 2,000 characters."))]})
    msg_id = _client_id(client_msg_id, "client_msg_id")
    with transaction.atomic():
        locked = lock_for_notes(consultation, unsigned=False)
        if msg_id:
            done = (
                ChatMessage.objects.filter(consultation=consultation, client_msg_id=msg_id)
                .select_related("author")
                .first()
            )
            if done is not None:
                _replay_audited(
                    client_id={"client_msg_id": msg_id},
                    first_author_id=done.author_id,
                    same_request=done.text == text.strip(),
                    shown=done,
                    consultation=consultation,
                    actor=actor,
                    via=via,
                )
                return ChatPosted(done, replayed=True)
        # After the replay check: a line posted before sign-off, resent after, is a success.
        refuse_if_signed(locked)
        message = ChatMessage.objects.create(
            consultation=consultation, author=actor, text=text.strip(), client_msg_id=msg_id
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            obj=message,
            patient=consultation.patient,
            via=via,
        )
        notes_broadcast(consultation.external_id, events.chat_message(message))
    return ChatPosted(message, replayed=False)
