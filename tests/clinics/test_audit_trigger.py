"""The database itself keeps the audit log append-only (PostgreSQL trigger); the retention
purge is the one delete it lets through. The ORM guard (test_audit.py) holds on both."""

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import ProgrammingError, connection, transaction
from django.utils import timezone

from clinics.models import AUDIT_PURGE_SETTING, AuditEntry
from clinics.retention import audit_entries_purge
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def entry(cast: Cast, *, aged: timedelta, object_id: str) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=cast.nurse,
        action=AuditEntry.Action.READ,
        object_type="patient",
        object_id=object_id,
        patient_id=cast.patient.external_id,
        at=timezone.now() - aged,
    )


def raw(sql: str, params: list[Any] | None = None) -> None:
    # A savepoint: the trigger's error aborts only this statement, the test goes on.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def kept() -> list[str]:
    return sorted(AuditEntry.objects.values_list("object_id", flat=True))


@pytest.mark.postgres
def test_a_raw_update_is_refused_and_changes_nothing(cast: Cast) -> None:
    row = entry(cast, aged=timedelta(days=1), object_id="a")
    with pytest.raises(ProgrammingError, match="Cannot update rows"):
        raw(
            "UPDATE clinics_auditentry SET action = 'delete', object_id = 'b' WHERE id = %s",
            [row.pk],
        )
    row.refresh_from_db()
    assert (row.action, row.object_id) == ("read", "a")


@pytest.mark.postgres
def test_a_raw_delete_is_refused_and_removes_nothing(cast: Cast) -> None:
    entry(cast, aged=timedelta(days=4000), object_id="old")
    entry(cast, aged=timedelta(0), object_id="new")
    with pytest.raises(ProgrammingError, match="Cannot delete rows"):
        raw("DELETE FROM clinics_auditentry")
    assert kept() == ["new", "old"]


@pytest.mark.postgres
def test_a_purge_declaration_lets_through_only_rows_older_than_its_cutoff(cast: Cast) -> None:
    entry(cast, aged=timedelta(days=40), object_id="old")
    entry(cast, aged=timedelta(days=10), object_id="recent")
    cutoff = (timezone.now() - timedelta(days=30)).isoformat()
    with pytest.raises(ProgrammingError, match="Cannot delete rows"):
        raw(
            "SELECT set_config(%s, %s, true); DELETE FROM clinics_auditentry",
            [AUDIT_PURGE_SETTING, cutoff],
        )
    assert kept() == ["old", "recent"]


def test_the_purge_deletes_only_entries_past_the_retention(cast: Cast, settings: Any) -> None:
    settings.AUDIT_RETENTION_DAYS = 30
    for n in range(3):
        entry(cast, aged=timedelta(days=31 + n), object_id=f"old-{n}")
    entry(cast, aged=timedelta(days=29), object_id="recent")
    entry(cast, aged=timedelta(0), object_id="new")
    assert audit_entries_purge(batch_size=2) == 3
    assert kept() == ["new", "recent"]
    assert audit_entries_purge() == 0


@pytest.mark.postgres
def test_after_the_purge_the_trigger_refuses_deletes_again(cast: Cast, settings: Any) -> None:
    settings.AUDIT_RETENTION_DAYS = 30
    entry(cast, aged=timedelta(days=31), object_id="old")
    entry(cast, aged=timedelta(days=400), object_id="older")
    assert audit_entries_purge(batch_size=1) == 2
    entry(cast, aged=timedelta(days=400), object_id="written-after")
    # Same transaction as the purge (the test's): its declaration did not outlive its DELETE.
    with pytest.raises(ProgrammingError, match="Cannot delete rows"):
        raw("DELETE FROM clinics_auditentry")
    assert kept() == ["written-after"]


def test_by_default_the_audit_log_is_kept_for_ever(cast: Cast) -> None:
    entry(cast, aged=timedelta(days=365 * 30), object_id="ancient")
    out = StringIO()
    call_command("purge_audit", stdout=out)
    assert out.getvalue() == "audit entries removed: 0\n"
    assert kept() == ["ancient"]


def test_the_command_prints_how_many_it_removed(cast: Cast, settings: Any) -> None:
    settings.AUDIT_RETENTION_DAYS = 3650
    entry(cast, aged=timedelta(days=3651), object_id="eleven-years")
    entry(cast, aged=timedelta(days=3649), object_id="nine-years")
    out = StringIO()
    call_command("purge_audit", "--batch-size", "1", stdout=out)
    assert out.getvalue() == "audit entries removed: 1\n"
    assert kept() == ["nine-years"]
