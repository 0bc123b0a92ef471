"""Sign-off, addenda and the store-and-forward hand-off.

A signed report is immutable: its `snapshot` is taken under the consult lock at signing
and never written again; every later word is an addendum with its own author and time.
"""

import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinics.audit import Via, audit_record
from clinics.models import AuditEntry, Membership, User
from clinics.selectors import station_staff
from consults.access import is_station_side
from consults.models import Consultation
from consults.notes import selectors
from consults.notes.document import content_digest
from consults.notes.models import (
    Addendum,
    AsyncCase,
    NoteRevision,
    Report,
    SectionKey,
)
from consults.notes.notify import notify_on_commit
from consults.notes.services import lock_for_notes
from consults.realtime import events
from consults.realtime.send import notes_broadcast
from telehealth.codes import Code
from telehealth.errors import AppError, invalid

CHAT_EXCERPT = 30
DIGEST = re.compile(r"[0-9a-f]{64}")


def licence_of(user: User, consultation: Consultation) -> str:
    """The signer's practising licence, preferably the one held at the consult's hospital."""
    memberships = Membership.objects.filter(
        user=user, role=Membership.Role.SPECIALIST, is_active=True
    ).order_by("id")
    at_hospital = memberships.filter(facility=consultation.hospital).first()
    chosen = at_hospital or memberships.first()
    return chosen.licence_number if chosen else ""


def _participants(consultation: Consultation) -> list[dict[str, str]]:
    authors = set(
        NoteRevision.objects.filter(section__consultation=consultation).values_list(
            "author_id", flat=True
        )
    ) | set(consultation.chat_messages.values_list("author_id", flat=True))
    people = User.objects.filter(pk__in=authors | {consultation.specialist_id}).order_by("pk")
    return [
        {
            "name": p.display_name,
            "side": "specialist" if p.pk == consultation.specialist_id else "station",
        }
        for p in people
    ]


def content_of(consultation: Consultation, signer: User) -> dict[str, Any]:
    """What the report will hold if `signer` signs now (the sign page previews it)."""
    patient = consultation.patient
    return {
        "patient": {
            "name": patient.full_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "sex": patient.sex,
            "citizen_id": patient.citizen_id,
            "insurance_number": patient.insurance_number,
            # Full years on the consult's day in the station's zone, as the room's summary.
            "age": patient.age_on(
                timezone.localdate(consultation.start)
                if consultation.start
                else timezone.localdate()
            ),
        },
        "reason": consultation.reason,
        "station": consultation.station.name,
        "hospital": consultation.hospital.name if consultation.hospital else "",
        "specialty": consultation.specialty.name_vi,
        "mode": consultation.mode,
        "start": consultation.start.isoformat() if consultation.start else None,
        "end": consultation.end.isoformat() if consultation.end else None,
        "participants": _participants(consultation),
        "sections": [
            {
                "section": s.key,
                "content": s.content,
                "revision": s.revision,
                "updated_by": s.updated_by.display_name if s.updated_by else None,
            }
            for s in selectors.note_sections(consultation)
        ],
        "attachments": [
            {
                "id": str(a.external_id),
                "name": a.original_name,
                "kind": a.kind,
                "caption": a.caption,
                "size": a.size,
                "by": a.uploaded_by.display_name,
                "at": a.created_at.isoformat(),
            }
            for a in selectors.attachments_of(consultation)
        ],
        "chat": [
            {"by": m.author.display_name, "text": m.text, "at": m.created_at.isoformat()}
            for m in list(
                selectors.chat_messages(consultation).order_by("-created_at", "-id")[:CHAT_EXCERPT]
            )[::-1]
        ],
        "specialist": {
            "name": signer.display_name,
            "licence_number": licence_of(signer, consultation),
        },
    }


def report_sign(
    *, consultation: Consultation, actor: User, via: Via, digest: str | None = None
) -> Report:
    """Sign the consult off. Preconditions: `actor` is the consult's specialist
    (require_signing_specialist). Needs a written assessment; in store-and-forward
    mode the station must have submitted. Signing twice is `report_signed` (409).
    With `digest` (the sign page's, of the content it showed), the content is compared
    under the lock: if a note changed since, nothing is signed (409 `report_changed`)."""
    if digest is not None and not (isinstance(digest, str) and DIGEST.fullmatch(digest)):
        raise invalid({"digest": [_("Open the sign page again: its preview is missing.")]})
    with transaction.atomic():
        locked = lock_for_notes(consultation)
        sections = {s.key: s for s in selectors.note_sections(locked)}
        if not sections[SectionKey.ASSESSMENT].revision:
            raise invalid(
                {"assessment": [_("Write the assessment before signing.")]},
                code=Code.ASSESSMENT_MISSING,
            )
        case = AsyncCase.objects.filter(consultation=locked).first()
        if locked.mode == Consultation.Mode.ASYNC and case is None:
            raise AppError(
                Code.NOT_SUBMITTED, _("The station has not submitted this case yet."), status=409
            )
        content = content_of(locked, actor)
        if digest is not None and digest != content_digest(content):
            raise AppError(
                Code.REPORT_CHANGED,
                _("The notes changed after you opened the preview: check it again, then sign."),
                status=409,
            )
        now = timezone.now()
        report = Report.objects.create(
            consultation=locked,
            signed_by=actor,
            signed_at=now,
            licence_number=licence_of(actor, locked),
            snapshot={**content, "signed_at": now.isoformat()},
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            obj=report,
            patient=locked.patient,
            via=via,
        )
        if case is not None:
            case.answered_at = now
            case.save(update_fields=["answered_at", "updated_at"])
        notes_broadcast(locked.external_id, events.report_signed(report))
        notify_on_commit(
            station_staff(locked.station_id),
            subject=_("Consult report signed"),
            body=_("The specialist signed the report for %(patient)s.")
            % {"patient": locked.patient.full_name},
            event=events.feed_report_signed(report),
        )
    return report


def addendum_add(*, consultation: Consultation, text: Any, actor: User, via: Via) -> Addendum:
    """Add to a signed report (participants only). The report itself never changes."""
    if not isinstance(text, str) or not text.strip():
        raise invalid({"text": [_("Write the addendum.")]})
    if len(text) > 10_000:
        raise invalid({"text": [_("At most %(n)d characters.") % {"n": 10_000}]})
    with transaction.atomic():
        Consultation.objects.select_for_update().get(pk=consultation.pk)
        report = Report.objects.filter(consultation=consultation).first()
        if report is None:
            raise AppError(
                Code.REPORT_NOT_SIGNED,
                _("The report is not signed yet: edit the notes instead."),
                status=409,
            )
        addendum = Addendum.objects.create(report=report, author=actor, text=text.strip())
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            obj=addendum,
            patient=consultation.patient,
            via=via,
        )
    return addendum


def async_submit(*, consultation: Consultation, actor: User, via: Via) -> AsyncCase:
    """The station hands a store-and-forward case to the specialist. Preconditions: a
    `mode=async` consult, `actor` on the station side, the history section written."""
    if consultation.mode != Consultation.Mode.ASYNC:
        raise AppError(
            Code.NOT_ASYNC, _("Only a store-and-forward consult is submitted."), status=409
        )
    if not is_station_side(actor, consultation):
        raise AppError(
            Code.NOT_STATION_STAFF, _("Only the station's staff submit the case."), status=403
        )
    with transaction.atomic():
        locked = lock_for_notes(consultation)
        if AsyncCase.objects.filter(consultation=locked).exists():
            raise AppError(
                Code.ALREADY_SUBMITTED, _("This case was already submitted."), status=409
            )
        sections = {s.key: s for s in selectors.note_sections(locked)}
        if not sections[SectionKey.HISTORY].revision:
            raise invalid(
                {"history": [_("Write the reason and history before submitting.")]},
                code=Code.NOTES_INCOMPLETE,
            )
        now = timezone.now()
        case = AsyncCase.objects.create(
            consultation=locked,
            submitted_by=actor,
            submitted_at=now,
            due_at=now + timedelta(hours=settings.NOTES_ASYNC_TARGET_HOURS),
        )
        audit_record(
            actor=actor, action=AuditEntry.Action.CREATE, obj=case, patient=locked.patient, via=via
        )
        recipients = [locked.specialist] if locked.specialist else []
        notify_on_commit(
            recipients,
            subject=_("New store-and-forward case"),
            body=_("%(station)s sent a case for %(patient)s. Please answer by %(due)s.")
            % {
                "station": locked.station.name,
                "patient": locked.patient.full_name,
                "due": timezone.localtime(case.due_at).strftime("%d/%m/%Y %H:%M"),
            },
            event=events.feed_case_submitted(case),
        )
    return case
