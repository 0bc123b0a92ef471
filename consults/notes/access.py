"""Who may read and write a consult's notes. Built on consults.access: what a user may not
see is a 404; a visible consult that the user is not on is read-only for them."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from clinics.models import User
from consults.access import (
    can_join_consultation,
    consultation_get_for_user,
    is_assigned_specialist,
)
from consults.models import Consultation
from telehealth.errors import AppError, not_found


def notes_get_for_reader(user: User, consultation_id: Any) -> Consultation:
    """Participants, and those who oversee the consult (coordinator, admin), may read."""
    return consultation_get_for_user(user, consultation_id)


def notes_get_for_writer(user: User, consultation_id: Any) -> Consultation:
    consultation = consultation_get_for_user(user, consultation_id)
    if not can_join_consultation(user, consultation):
        raise AppError(
            "not_a_participant", _("Only the consult's participants can write here."), status=403
        )
    return consultation


def notes_get_for_participant(user: User, consultation_id: Any) -> Consultation:
    """Attachment downloads: participants only, everyone else a 404."""
    consultation = consultation_get_for_user(user, consultation_id)
    if not can_join_consultation(user, consultation):
        raise not_found(_("No such consultation."))
    return consultation


def require_signing_specialist(user: User, consultation: Consultation) -> None:
    if not is_assigned_specialist(user, consultation):
        raise AppError(
            "not_the_specialist",
            _("Only the consult's specialist can sign the report."),
            status=403,
        )
