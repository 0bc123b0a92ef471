"""Idempotency-Key: a weak link retries a write; the same key gives the same answer.

Only successful answers are stored: a refused write changed nothing, so retrying it
asks the question again.
"""

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request
from rest_framework.response import Response

from clinics.models import IdempotencyRecord
from telehealth.errors import AppError

HEADER = "Idempotency-Key"


def _digest(request: Request) -> str:
    payload = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{payload}".encode()).hexdigest()


def _replay(record: IdempotencyRecord, digest: str) -> Response:
    if record.request_hash != digest:
        raise AppError(
            "idempotency_key_reused",
            _("This Idempotency-Key was already used for a different request."),
            status=409,
        )
    return Response(record.body, status=record.status_code, headers={"Idempotent-Replay": "true"})


def idempotent(request: Request, scope: str, write: Callable[[], Response]) -> Response:
    """Run `write` once per (user, scope, key); replay its answer for the same key."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return write()
    if len(key) > 100:
        raise AppError(
            "invalid_idempotency_key", _("The Idempotency-Key header is too long (max 100).")
        )
    digest = _digest(request)
    lookup = {"user": request.user, "scope": scope, "key": key}
    existing = IdempotencyRecord.objects.filter(**lookup).first()
    if existing:
        return _replay(existing, digest)
    try:
        with transaction.atomic():
            response = write()
            if response.status_code < 400:
                IdempotencyRecord.objects.create(
                    **lookup,
                    request_hash=digest,
                    status_code=response.status_code,
                    body=json.loads(json.dumps(response.data, default=str)),
                )
    except IntegrityError:
        # A concurrent retry with the same key committed first: its write stands, ours
        # rolled back with this transaction.
        existing = IdempotencyRecord.objects.filter(**lookup).first()
        if existing is None:
            raise
        return _replay(existing, digest)
    return response
