"""Who may read and write a consult's notes. Built on consults.access: what a user may not
see is a 404; a visible consult that the user is not on is read-only for them, and its
attachments (photos, scans of the patient) do not exist for them at all: 404 on every
attachment path, upload included (docs/decisions.md 21)."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from clinics.access import parse_uuid
from clinics.models import User
from consults.access import (
    can_join_consultation,
    consultation_get_for_user,
    consultations_visible_to,
    is_assigned_specialist,
)
from consults.models import Consultation
from consults.notes.models import Addendum, Attachment
from telehealth.codes import Code
from telehealth.errors import AppError, not_found


def notes_get_for_reader(user: User, consultation_id: Any) -> Consultation:
    """Participants, and those who oversee the consult (coordinator, admin), may read."""
    return consultation_get_for_user(user, consultation_id)


def notes_get_for_writer(user: User, consultation_id: Any) -> Consultation:
    consultation = consultation_get_for_user(user, consultation_id)
    if not can_join_consultation(user, consultation):
        raise AppError(
            Code.NOT_A_PARTICIPANT, _("Only the consult's participants can write here."), status=403
        )
    return consultation


def _attachment_consults(user: User) -> QuerySet[Consultation]:
    """The consults whose attachments the user may list, upload, download: its participants'."""
    return can_join_consultation.filter(user, consultations_visible_to(user))


def notes_get_for_participant(user: User, consultation_id: Any) -> Consultation:
    """The attachments' consult (list, upload, download), or 404 to everyone not on it."""
    try:
        return _attachment_consults(user).get(external_id=parse_uuid(consultation_id))
    except Consultation.DoesNotExist as exc:
        raise not_found(_("No such consultation.")) from exc


def attachment_get_for_user(user: User, attachment_id: Any) -> Attachment:
    """An attachment is seen by the consult's participants, as its download is."""
    try:
        return Attachment.objects.select_related("consultation__patient", "uploaded_by").get(
            consultation__in=_attachment_consults(user), external_id=parse_uuid(attachment_id)
        )
    except Attachment.DoesNotExist as exc:
        raise not_found() from exc


def addendum_get_for_user(user: User, addendum_id: Any) -> Addendum:
    """An addendum is read with the signed report: by whoever may read the consult's notes."""
    try:
        return Addendum.objects.select_related("report__consultation__patient", "author").get(
            report__consultation__in=consultations_visible_to(user),
            external_id=parse_uuid(addendum_id),
        )
    except Addendum.DoesNotExist as exc:
        raise not_found() from exc


def require_signing_specialist(user: User, consultation: Consultation) -> None:
    if not is_assigned_specialist(user, consultation):
        raise AppError(
            Code.NOT_THE_SPECIALIST,
            _("Only the consult's specialist can sign the report."),
            status=403,
        )
