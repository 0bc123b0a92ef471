"""Idempotency-Key answers: replayed within the retention period, forgotten after it."""

from datetime import timedelta
from importlib import import_module
from io import StringIO
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command, get_commands
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinics.idempotency import idempotency_records_purge
from clinics.models import AuditEntry, IdempotencyRecord, Membership, Patient
from tests.clinics.test_patients_api import LIST, new_patient
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

RETENTION = timedelta(hours=48)


def age(key: str, by: timedelta) -> None:
    IdempotencyRecord.objects.filter(key=key).update(created_at=timezone.now() - by)


def stored(cast: Cast, key: str, *, aged: timedelta) -> IdempotencyRecord:
    record = IdempotencyRecord.objects.create(
        user=cast.nurse,
        scope="test",
        key=key,
        request_hash="0" * 64,
        status_code=201,
        body={"id": str(cast.patient.external_id)},
        resource_kind="patient",
        resource_id=cast.patient.external_id,
    )
    age(key, aged)
    return record


def deletes(queries: CaptureQueriesContext) -> int:
    return sum(q["sql"].lstrip().upper().startswith("DELETE") for q in queries.captured_queries)


def test_it_replays_a_retry_just_inside_the_retention_period(cast: Cast, api: Any) -> None:
    client, body = api(cast.nurse), new_patient()
    first = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    age("reg-1", RETENTION - timedelta(minutes=1))
    again = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replay"] == "true"
    assert Patient.objects.filter(full_name="Hoàng Thị Lan").count() == 1


def test_it_treats_a_key_past_the_retention_period_as_a_new_key(cast: Cast, api: Any) -> None:
    client, body = api(cast.nurse), new_patient()
    client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-2")
    age("reg-2", RETENTION + timedelta(minutes=1))
    again = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-2")
    # Asked again, the registration's own rule answers: this CCCD is already registered.
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_citizen_id"
    assert "Idempotent-Replay" not in again.headers
    assert Patient.objects.filter(full_name="Hoàng Thị Lan").count() == 1


def test_an_expired_key_takes_a_different_request_and_stores_its_answer(
    cast: Cast, api: Any
) -> None:
    client = api(cast.nurse)
    client.post(LIST, new_patient(), format="json", HTTP_IDEMPOTENCY_KEY="reg-3")
    age("reg-3", RETENTION + timedelta(minutes=1))
    other = new_patient(full_name="Người Khác", citizen_id="", insurance_number="", phone="")
    created = client.post(LIST, other, format="json", HTTP_IDEMPOTENCY_KEY="reg-3")
    assert created.status_code == 201
    again = client.post(LIST, other, format="json", HTTP_IDEMPOTENCY_KEY="reg-3")
    assert again.headers["Idempotent-Replay"] == "true"
    assert again.json()["id"] == created.json()["id"]
    assert IdempotencyRecord.objects.filter(key="reg-3").count() == 1


def test_it_reads_the_retention_period_from_settings(cast: Cast, api: Any, settings: Any) -> None:
    settings.IDEMPOTENCY_RETENTION_HOURS = 1
    client, body = api(cast.nurse), new_patient()
    client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-4")
    age("reg-4", timedelta(minutes=61))
    again = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-4")
    assert again.json()["code"] == "duplicate_citizen_id"


def test_a_nurse_moved_to_another_station_cannot_replay_a_registration_there(
    cast: Cast, api: Any
) -> None:
    client, body = api(cast.nurse), new_patient()
    assert client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-5").status_code == 201
    cast.nurse.memberships.update(is_active=False)
    Membership.objects.create(
        user=cast.nurse, facility=cast.station2, role=Membership.Role.STATION_STAFF
    )
    again = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-5")
    assert again.status_code == 404
    assert again.json()["code"] == "not_found"
    assert "Lan" not in again.content.decode()
    assert not AuditEntry.objects.filter(action="read").exists()


def test_a_replayed_registration_is_audited_as_a_read_of_the_patient(cast: Cast, api: Any) -> None:
    client, body = api(cast.nurse), new_patient()
    first = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-6")
    client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-6")
    [read] = AuditEntry.objects.filter(action="read")
    assert (read.actor, read.object_type) == (cast.nurse, "patient")
    assert str(read.patient_id) == read.object_id == first.json()["id"]


def test_a_replayed_consent_is_audited_as_a_read_of_it(cast: Cast, api: Any) -> None:
    client = api(cast.nurse)
    url = f"/api/v1/patients/{cast.patient.external_id}/consents/"
    body = {"purpose": "recording", "status": "given"}
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="con-1")
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="con-1")
    assert again.json() == first.json()
    [read] = AuditEntry.objects.filter(action="read")
    assert (read.object_type, read.object_id) == ("consent", first.json()["id"])
    assert read.patient_id == cast.patient.external_id


def test_the_migration_names_what_stored_answers_show_and_forgets_the_rest(
    cast: Cast,
) -> None:
    migration = import_module("clinics.migrations.0004_idempotency_resource")
    patient_id = str(cast.patient.external_id)
    for key, scope, body in [
        ("named", "patient_register", {"id": patient_id}),
        ("consult", f"cancel:{patient_id}", {"id": patient_id}),
        ("no-id", "patient_register", {}),
        ("unknown", "something_else", {"id": patient_id}),
    ]:
        IdempotencyRecord.objects.create(
            user=cast.nurse,
            scope=scope,
            key=key,
            request_hash="0" * 64,
            status_code=201,
            body=body,
            resource_kind="",
            resource_id=UUID(int=0),
        )
    migration.name_what_stored_answers_show(django_apps, None)
    named = IdempotencyRecord.objects.order_by("key").values_list(
        "key", "resource_kind", "resource_id"
    )
    assert list(named) == [
        ("consult", "consultation", cast.patient.external_id),
        ("named", "patient", cast.patient.external_id),
    ]


def test_the_purge_removes_old_answers_and_keeps_recent_ones(cast: Cast) -> None:
    stored(cast, "old", aged=RETENTION + timedelta(minutes=1))
    stored(cast, "very-old", aged=timedelta(days=400))
    stored(cast, "recent", aged=RETENTION - timedelta(minutes=1))
    stored(cast, "fresh", aged=timedelta(0))
    assert idempotency_records_purge() == 2
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"recent", "fresh"}
    assert idempotency_records_purge() == 0


@pytest.mark.parametrize(("old", "batches"), [(0, 0), (1, 1), (2, 1), (3, 2), (5, 3)])
def test_the_purge_deletes_at_most_a_batch_per_statement(
    cast: Cast, old: int, batches: int
) -> None:
    for i in range(old):
        stored(cast, f"old-{i}", aged=RETENTION + timedelta(hours=i + 1))
    stored(cast, "recent", aged=timedelta(hours=1))
    with CaptureQueriesContext(connection) as queries:
        assert idempotency_records_purge(batch_size=2) == old
    assert deletes(queries) == batches
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]


def test_the_command_prints_how_many_it_removed(cast: Cast) -> None:
    stored(cast, "old-1", aged=RETENTION + timedelta(hours=1))
    stored(cast, "old-2", aged=RETENTION + timedelta(hours=2))
    stored(cast, "recent", aged=timedelta(hours=1))
    out = StringIO()
    call_command("purge_idempotency", "--batch-size", "1", stdout=out)
    assert out.getvalue() == "idempotency records removed: 2\n"
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]


def test_the_command_refuses_a_batch_size_below_one(cast: Cast) -> None:
    with pytest.raises(CommandError, match="batch-size"):
        call_command("purge_idempotency", "--batch-size", "0")


def test_the_deployed_timer_runs_the_purge_command() -> None:
    units = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
    service = (units / "telehealth-purge-idempotency.service").read_text()
    timer = (units / "telehealth-purge-idempotency.timer").read_text()
    exec_start = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    assert exec_start.endswith("manage.py purge_idempotency")
    assert get_commands()["purge_idempotency"] == "clinics"
    assert "Type=oneshot" in service
    assert "OnCalendar=hourly" in timer
