"""The audit trail of patient data: every read and write, over HTTP and WebSocket."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from clinics.models import AuditEntry, Patient, User


@dataclass(frozen=True)
class Via:
    """Where a request came from: the channel and the client address, for the audit log."""

    channel: str = AuditEntry.Channel.HTTP
    ip: str | None = None

    @classmethod
    def http(cls, request: HttpRequest) -> "Via":
        return cls(AuditEntry.Channel.HTTP, request.META.get("REMOTE_ADDR") or None)

    @classmethod
    def ws(cls, scope: dict[str, Any]) -> "Via":
        client = scope.get("client") or (None, None)
        return cls(AuditEntry.Channel.WS, client[0])

    @classmethod
    def system(cls) -> "Via":
        return cls(AuditEntry.Channel.SYSTEM, None)


def _actor(user: Any) -> User | None:
    return user if isinstance(user, User) and user.is_authenticated else None


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: Any,
    patient: Patient | None,
    via: Via,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=_actor(actor),
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=str(getattr(obj, "external_id", obj.pk)),
        patient_id=patient.external_id if patient else None,
        ip=via.ip,
        channel=via.channel,
    )


def audit_reads(
    *, actor: Any, object_type: str, shown: Iterable[tuple[Any, Any]], via: Via
) -> None:
    """One READ entry per object shown, from (object id, patient id) pairs, in one INSERT."""
    entries = [
        AuditEntry(
            actor=_actor(actor),
            action=AuditEntry.Action.READ,
            object_type=object_type,
            object_id=str(object_id),
            patient_id=patient_id,
            ip=via.ip,
            channel=via.channel,
        )
        for object_id, patient_id in shown
    ]
    AuditEntry.objects.bulk_create(entries)


def audit_patients_read(*, actor: Any, patients: Iterable[Patient], via: Via) -> None:
    """One READ entry per patient shown (a list page shows patient data too)."""
    audit_reads(
        actor=actor,
        object_type="patient",
        shown=((p.external_id, p.external_id) for p in patients),
        via=via,
    )
