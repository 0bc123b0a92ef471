"""The audit log is append-only: nothing in the app can change or delete an entry."""

from typing import Any

import pytest
from django.test import Client

from clinics.audit import Via, audit_record
from clinics.models import AuditEntry
from tests.conftest import Cast
from tests.two_factor import login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(cast: Cast) -> AuditEntry:
    return audit_record(
        actor=cast.nurse, action="read", obj=cast.patient, patient=cast.patient, via=Via()
    )


def test_an_entry_cannot_be_saved_again(entry: AuditEntry) -> None:
    entry.action = "delete"
    with pytest.raises(PermissionError):
        entry.save()
    entry.refresh_from_db()
    assert entry.action == "read"


def test_an_entry_cannot_be_deleted(entry: AuditEntry) -> None:
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.update(action="delete")
    assert AuditEntry.objects.filter(pk=entry.pk, action="read").exists()


def test_the_admin_shows_entries_read_only(cast: Cast, entry: AuditEntry) -> None:
    client = Client()
    login_verified(client, cast.admin)
    url = f"/admin/clinics/auditentry/{entry.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(url, {"action": "delete"}).status_code == 403
    delete = client.post(f"/admin/clinics/auditentry/{entry.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert client.get("/admin/clinics/auditentry/add/").status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk, action="read").exists()


def test_entries_record_the_channel_and_address(cast: Cast, api: Any) -> None:
    api(cast.nurse).get(f"/api/v1/patients/{cast.patient.external_id}/", REMOTE_ADDR="10.1.2.3")
    entry = AuditEntry.objects.get(patient_id=cast.patient.external_id)
    assert (entry.channel, entry.ip, entry.object_type) == ("http", "10.1.2.3", "patient")


def test_a_websocket_origin_is_recorded_as_ws(cast: Cast) -> None:
    via = Via.ws({"client": ("10.9.8.7", 5555)})
    entry = audit_record(
        actor=cast.nurse, action="read", obj=cast.patient, patient=cast.patient, via=via
    )
    assert (entry.channel, entry.ip) == ("ws", "10.9.8.7")
