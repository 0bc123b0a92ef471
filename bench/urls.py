"""The app's URLs plus the floors served by the same daphne process: F3, a bare DRF
endpoint, and F3w, a DRF POST that writes as little as a booking must (DESIGN.md)."""

import hashlib
import json
from typing import Any

from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class Floor(APIView):
    """F3: no authentication, no database, one small JSON answer."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    def post(self, request: Request) -> Response:
        return Response({"ok": True}, status=201)

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


FLOOR_LOCK = 7 << 56  # an advisory-lock key no resource of the app's uses (lock_key)


def floor_table_create() -> None:
    """The one table F3w inserts into; made by the benchmark in its throw-away database."""
    serial = "bigserial" if connection.vendor == "postgresql" else "integer"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS bench_floor_write "
            f"(id {serial} PRIMARY KEY, body text NOT NULL, created_at timestamp NOT NULL)"
        )


class FloorWrite(APIView):
    """F3w: the least a booking must do, in one transaction: take an advisory lock
    (PostgreSQL), insert one row, store the idempotency answer (the app's own model).
    No authentication: the answers belong to the user named by `?user=<pk>`."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    def post(self, request: Request) -> Response:
        from django.utils import timezone

        from clinics.models import IdempotencyRecord

        body = json.dumps(request.data, sort_keys=True)
        answer = {"id": "00000000-0000-0000-0000-000000000000", "ok": True}
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FLOOR_LOCK])
            cursor.execute(
                "INSERT INTO bench_floor_write (body, created_at) VALUES (%s, %s)",
                [body, timezone.now()],
            )
            IdempotencyRecord.objects.create(
                user_id=int(request.query_params["user"]),
                scope="bench-floor",
                key=request.headers.get("Idempotency-Key")
                or hashlib.sha256(body.encode()).hexdigest(),
                request_hash=hashlib.sha256(body.encode()).hexdigest(),
                status_code=201,
                resource_kind="bench",
                resource_id=answer["id"],
                body=answer,
            )
        return Response(answer, status=201)


urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/floor/", Floor.as_view()),
    path("bench/floor-write/", FloorWrite.as_view()),
    path("", include("telehealth.urls")),
]
