"""Faults on real processes: a booking whose database connection is killed mid-transaction.

The booking waits on its specialist's lock (held here from another connection), its backend
is terminated, and the client gets a retryable 503 with nothing half-written; the same
request retried with its Idempotency-Key then books exactly once.
"""

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from consults.models import Consultation
from consults.scheduling.models import Holiday
from consults.scheduling.public_holidays import is_national_holiday
from consults.scheduling.services import SPECIALIST_LOCK, lock_key
from tests import factories
from tests.conftest import Cast
from tests.e2e.servers import Daphne
from tests.scheduling.conftest import at, give_hours

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def post(server: Daphne, token: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{server.url}/api/v1/consultations/",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()) | {"retry_after": error.headers["Retry-After"]}


def conninfo() -> str:
    db = connection.settings_dict
    return (
        f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} "
        f"dbname={db['NAME']} user={db['USER']}"
        + (f" password={db['PASSWORD']}" if db["PASSWORD"] else "")
    )


def waiting_backend(holder: psycopg.Connection[Any], timeout: float = 15) -> int:
    """The pid of the backend that waits on the advisory lock we hold."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Inside a transaction pg_stat_activity is a snapshot: take a fresh one each time.
        holder.execute("SELECT pg_stat_clear_snapshot()")
        row = holder.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event = 'advisory' AND pid <> "
            "pg_backend_pid() AND datname = current_database()"
        ).fetchone()
        if row:
            return int(row[0])
        time.sleep(0.05)
    raise TimeoutError("the booking never reached its lock")


def bookable_day() -> date:
    day = timezone.localdate() + timedelta(days=2)
    holidays = set(Holiday.objects.values_list("date", flat=True))
    while day in holidays or is_national_holiday(day):
        day += timedelta(days=1)
    return day


def test_a_booking_cut_off_from_the_database_is_retryable_and_books_once(
    daphne_server: Daphne, cast: Cast
) -> None:
    give_hours(cast.specialist)
    token = factories.make_api_token(cast.nurse)
    start = at(bookable_day(), 9)
    body = {
        "patient": str(cast.patient.external_id),
        "specialist": str(cast.specialist.external_id),
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=30)).isoformat(),
        "reason": "Khó thở về đêm",
    }
    answers: dict[str, Any] = {}
    with psycopg.connect(conninfo(), autocommit=False) as holder:
        key = lock_key(SPECIALIST_LOCK, cast.specialist.pk)
        holder.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        booking = threading.Thread(
            target=lambda: answers.update(first=post(daphne_server, token, body, "book-1"))
        )
        booking.start()
        victim = waiting_backend(holder)
        holder.execute("SELECT pg_terminate_backend(%s)", [victim])
        booking.join(timeout=30)
        holder.rollback()
    status, error = answers["first"]
    assert status == 503
    assert error["code"] == "service_unavailable"
    assert error["retry_after"] == "2"
    assert not Consultation.objects.filter(patient=cast.patient).exists()

    retried = post(daphne_server, token, body, "book-1")
    again = post(daphne_server, token, body, "book-1")
    assert retried[0] == again[0] == 201
    assert retried[1]["id"] == again[1]["id"]
    assert Consultation.objects.filter(patient=cast.patient).count() == 1
