"""Audit targets for reads of a whole collection of a consult (its notes, its chat).

clinics.audit names an entry's object by its type: these types name the collection and
carry the consult's id, so an entry reads "read notes <consult id>".
"""

from dataclasses import dataclass
from uuid import UUID

from clinics.audit import Via, audit_record
from clinics.models import AuditEntry, User
from consults.models import Consultation


@dataclass(frozen=True)
class Notes:
    external_id: UUID
    pk: None = None  # clinics.audit falls back to pk when there is no external_id


@dataclass(frozen=True)
class Chat:
    external_id: UUID
    pk: None = None


def audit_read(
    *, actor: User, what: type[Notes | Chat], consultation: Consultation, via: Via
) -> None:
    audit_record(
        actor=actor,
        action=AuditEntry.Action.READ,
        obj=what(consultation.external_id),
        patient=consultation.patient,
        via=via,
    )
