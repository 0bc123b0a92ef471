"""Idempotency-Key: a weak link retries a write; the same key gives the same answer.

Only successful answers are stored: a refused write changed nothing, so retrying it
asks the question again.

Answers are kept IDEMPOTENCY_RETENTION_HOURS (a booking's holds the patient's name, personal
data under Decree 13/2023), then purged in batches (`idempotency_records_purge`, run by
`manage.py purge_idempotency`). A key older than that is a new key, whether or not the purge
has run yet: the write is asked again and the write's own rules answer it.

A replay is a read of what the first answer shows. Each call site names that resource
(`Shown`: its kind, its access function, whose data it is); the record keeps its kind and
public id (the answer's `id`), and a replay asks the access function again for the user
retrying: someone who may no longer see it gets the 404 a fresh request would get, everyone
else the stored first answer and a READ entry in the audit log.
"""

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request
from rest_framework.response import Response

from clinics.audit import Via, audit_record
from clinics.models import AuditEntry, IdempotencyRecord, Patient, User
from clinics.retention import delete_in_batches
from telehealth.auth import request_user
from telehealth.codes import Code
from telehealth.errors import AppError
from telehealth.storable import refusal, unstorable

HEADER = "Idempotency-Key"

# True while a keyed write runs inside the transaction `idempotent` opened for it.
_IN_KEYED_WRITE: ContextVar[bool] = ContextVar("in_keyed_write", default=False)


def write_transaction() -> transaction.Atomic:
    """The transaction a service opens for its write: its own, or, inside a keyed write,
    a part of the one `idempotent` opened, without a savepoint (two round trips each
    write would otherwise make while it holds its locks). Safe because nothing between
    that transaction and the write catches the write's error: it rolls back the whole
    transaction, the answer's record with it, and is the request's answer."""
    return transaction.atomic(savepoint=not _IN_KEYED_WRITE.get())


@contextmanager
def _keyed_write() -> Iterator[None]:
    token = _IN_KEYED_WRITE.set(True)
    try:
        yield
    finally:
        _IN_KEYED_WRITE.reset(token)


@dataclass(frozen=True)
class Shown:
    """The resource an answer shows, found again by its public id (the answer's `id`).

    `get_for_user` is the resource's access function: it raises the 404 `not_found` for
    what the user may not see. `patient_of` names whose data it is, for the audit log.
    """

    kind: str
    get_for_user: Callable[[User, Any], Any]
    patient_of: Callable[[Any], Patient]


def _cutoff() -> datetime:
    """Answers stored before this are past retention."""
    return timezone.now() - timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS)


def _canonical(value: Any) -> str:
    """How a non-JSON value enters the request's hash: an uploaded file by its content (by
    its name alone, another file of the same name sent with the key would replay the first
    upload's answer instead of being refused)."""
    if isinstance(value, UploadedFile):
        content = hashlib.sha256()
        for chunk in value.chunks():
            content.update(chunk)
        value.seek(0)  # the write reads it next
        return f"file {value.name} {value.size} {content.hexdigest()}"
    return str(value)


def _digest(request: Request) -> str:
    payload = json.dumps(request.data, sort_keys=True, default=_canonical)
    return hashlib.sha256(f"{request.method} {request.path}\n{payload}".encode()).hexdigest()


def _replay(request: Request, record: IdempotencyRecord, digest: str, shows: Shown) -> Response:
    if record.request_hash != digest:
        raise AppError(
            Code.IDEMPOTENCY_KEY_REUSED,
            _("This Idempotency-Key was already used for a different request."),
            status=409,
        )
    # The write checked access when it ran; the retry may come after the user lost it
    # (a nurse moved off her station): ask again, as a fresh read of the resource would.
    user = request_user(request)
    obj = shows.get_for_user(user, record.resource_id)
    audit_record(
        actor=user,
        action=AuditEntry.Action.READ,
        obj=obj,
        patient=shows.patient_of(obj),
        via=Via.http(request),
    )
    return Response(record.body, status=record.status_code, headers={"Idempotent-Replay": "true"})


def idempotent(
    request: Request,
    scope: str,
    write: Callable[[], Response],
    *,
    shows: Shown,
    key: str | None = None,
) -> Response:
    """Run `write` once per (user, scope, key); replay its answer for the same key to a
    user who may still see what it `shows` (the resource whose public id is the answer's
    `id`). The key is the Idempotency-Key header unless given (a page form's hidden one)."""
    key = (request.headers.get(HEADER, "") if key is None else key).strip()
    if not key:
        return write()
    if len(key) > 100:
        raise AppError(
            Code.INVALID_IDEMPOTENCY_KEY, _("The Idempotency-Key header is too long (max 100).")
        )
    if char := unstorable(key):
        raise AppError(Code.INVALID_IDEMPOTENCY_KEY, refusal(char))
    digest = _digest(request)
    lookup = {"user": request.user, "scope": scope, "key": key}
    existing = IdempotencyRecord.objects.filter(**lookup).first()
    if existing and existing.created_at < _cutoff():
        # Expired but not purged yet: drop it so the unique key is free for this new answer.
        # By pk, so a concurrent retry's fresh answer under the same key is never removed.
        IdempotencyRecord.objects.filter(pk=existing.pk).delete()
        existing = None
    if existing:
        return _replay(request, existing, digest, shows)
    try:
        with transaction.atomic():
            with _keyed_write():
                response = write()
            if response.status_code < 400:
                IdempotencyRecord.objects.create(
                    **lookup,
                    request_hash=digest,
                    status_code=response.status_code,
                    resource_kind=shows.kind,
                    resource_id=response.data["id"],
                    body=json.loads(json.dumps(response.data, default=str)),
                )
    except IntegrityError:
        # A concurrent retry with the same key committed first: its write stands, ours
        # rolled back with this transaction.
        existing = IdempotencyRecord.objects.filter(**lookup).first()
        if existing is None:
            raise
        return _replay(request, existing, digest, shows)
    return response


def idempotency_records_purge(*, batch_size: int = 1000) -> int:
    """Delete the answers older than IDEMPOTENCY_RETENTION_HOURS; return how many.

    In batches (clinics.retention). The cutoff is fixed when the purge starts, so rows that
    age past it while it runs are left to the next run.
    """
    expired = IdempotencyRecord.objects.filter(created_at__lt=_cutoff())
    return delete_in_batches(expired, oldest_first="created_at", batch_size=batch_size)
