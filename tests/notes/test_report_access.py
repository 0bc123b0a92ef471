"""Who may read a SIGNED report (JSON, PDF, printable page), and the audit trail it leaves.

Before sign-off everyone gets 404 `report_not_signed`, which would hide a leak: every check
here runs on a signed report, and an outsider's 404 must be `not_found`, not that one.
"""

import io
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

from clinics.models import AuditEntry
from consults.notes.models import Report
from tests.notes.conftest import notes_url, require_font, section_url

pytestmark = pytest.mark.django_db

ON_THE_CONSULT = ["nurse", "specialist", "coordinator"]  # the coordinator oversees, reads only
OUTSIDERS = ["outsider_nurse", "other_specialist", "other_coordinator"]


@pytest.fixture
def signed(cast: Any, api: Any, consultation: Any) -> Report:
    r = api(cast.specialist).put(
        section_url(consultation, "assessment"),
        {
            "content": {"text": "Rung nhĩ, cần chống đông"},
            "base_revision": 0,
            "client_edit_id": "e1",
        },
        format="json",
    )
    assert r.status_code == 200, r.json()
    r = api(cast.specialist).post(notes_url(consultation, "report/sign/"))
    assert r.status_code == 201, r.json()
    return Report.objects.get(consultation=consultation)


def page_url(consultation: Any) -> str:
    return f"/consultations/{consultation.external_id}/report/"


def report_entries(report: Report, action: str) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            object_type="report", object_id=str(report.external_id), action=action
        )
    )


@pytest.mark.parametrize("who", ON_THE_CONSULT)
def test_those_on_the_consult_read_the_signed_report_and_its_page(
    cast: Any, api: Any, client: Client, consultation: Any, signed: Report, who: str
) -> None:
    user = getattr(cast, who)
    r = api(user).get(notes_url(consultation, "report/"))
    assert r.status_code == 200
    assert r.json()["id"] == str(signed.external_id)
    client.force_login(user)
    page = client.get(page_url(consultation))
    assert page.status_code == 200
    assert "Rung nhĩ, cần chống đông" in page.content.decode()


@pytest.mark.parametrize("who", ON_THE_CONSULT)
def test_those_on_the_consult_download_the_signed_pdf(
    cast: Any, api: Any, consultation: Any, signed: Report, who: str
) -> None:
    require_font()
    r = api(getattr(cast, who)).get(notes_url(consultation, "report/pdf/"))
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert "Nông Thị Hoa" in PdfReader(io.BytesIO(r.content)).pages[0].extract_text()


@pytest.mark.parametrize("who", OUTSIDERS)
def test_a_signed_report_is_404_for_an_outsider_on_every_channel(
    cast: Any, api: Any, client: Client, consultation: Any, signed: Report, who: str
) -> None:
    user = getattr(cast, who)
    for rest in ("report/", "report/pdf/"):
        r = api(user).get(notes_url(consultation, rest))
        assert r.status_code == 404, rest
        assert r.json()["code"] == "not_found", rest  # not `report_not_signed`: it is signed
    client.force_login(user)
    page = client.get(page_url(consultation))
    assert page.status_code == 404
    assert page.context["error"].code == "not_found"
    assert not AuditEntry.objects.filter(actor=user).exists()


def test_a_signed_report_asks_an_anonymous_visitor_to_log_in(
    api: Any, client: Client, consultation: Any, signed: Report
) -> None:
    for rest in ("report/", "report/pdf/"):
        assert api(None).get(notes_url(consultation, rest)).status_code == 401, rest
    page = client.get(page_url(consultation))
    assert page.status_code == 302
    assert page["Location"].startswith("/login/?next=")
    assert not report_entries(signed, AuditEntry.Action.READ)


def test_reading_the_signed_report_is_audited_on_the_api_and_the_page(
    cast: Any, api: Any, client: Client, consultation: Any, signed: Report
) -> None:
    api(cast.nurse).get(notes_url(consultation, "report/"))
    client.force_login(cast.specialist)
    client.get(page_url(consultation))
    entries = report_entries(signed, AuditEntry.Action.READ)
    assert {(e.actor, e.channel, e.patient_id) for e in entries} == {
        (cast.nurse, AuditEntry.Channel.HTTP, cast.patient.external_id),
        (cast.specialist, AuditEntry.Channel.HTTP, cast.patient.external_id),
    }


def test_downloading_the_signed_pdf_is_audited_as_an_export(
    cast: Any, api: Any, consultation: Any, signed: Report
) -> None:
    require_font()
    assert not report_entries(signed, AuditEntry.Action.EXPORT)
    assert api(cast.nurse).get(notes_url(consultation, "report/pdf/")).status_code == 200
    [entry] = report_entries(signed, AuditEntry.Action.EXPORT)
    assert entry.actor == cast.nurse
    assert entry.channel == AuditEntry.Channel.HTTP
    assert entry.patient_id == cast.patient.external_id
