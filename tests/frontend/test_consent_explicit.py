"""Consent is recorded only by an explicit act (Decree 13/2023): nothing is ticked for the
nurse, the API records only what it is told, and the patient page shows every record."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from clinics.audit import Via
from clinics.models import Consent, Patient, User
from clinics.services import consent_record
from tests import factories
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _registration() -> dict[str, str]:
    born = factories.date(1968, 3, 2)
    return {
        "full_name": "Lương Thị Mai",
        "date_of_birth": born.strftime("%d/%m/%Y"),
        "sex": "female",
        "citizen_id": factories.citizen_id_for(born, female=True),
    }


def test_the_registration_page_ticks_no_consent(cast: Cast) -> None:
    page = logged_in(cast.nurse).get("/patients/").content.decode()
    boxes = re.findall(r'<input type="checkbox" name="consents"[^>]*>', page)
    assert len(boxes) == len(Consent.Purpose.choices)
    assert [b for b in boxes if "checked" in b] == []


def test_a_registration_without_a_ticked_box_records_no_consent(cast: Cast) -> None:
    assert logged_in(cast.nurse).post("/patients/", _registration()).status_code == 302
    assert not Patient.objects.get(full_name="Lương Thị Mai").consents.exists()


def test_a_refused_registration_shows_the_boxes_as_the_nurse_left_them(cast: Cast) -> None:
    form = _registration() | {"citizen_id": "123", "consents": ["recording"]}
    page = logged_in(cast.nurse).post("/patients/", form).content.decode()
    checked = re.findall(r'<input type="checkbox" name="consents" value="(\w+)" checked>', page)
    assert checked == ["recording"]


def test_the_api_registers_without_consent_unless_named(api, cast: Cast) -> None:
    body = _registration() | {"date_of_birth": "1968-03-02"}
    assert api(cast.nurse).post("/api/v1/patients/", body, format="json").status_code == 201
    assert not Patient.objects.get(full_name="Lương Thị Mai").consents.exists()


def test_the_api_refuses_a_consent_that_does_not_say_given_or_withdrawn(api, cast: Cast) -> None:
    url = f"/api/v1/patients/{cast.patient.external_id}/consents/"
    response = api(cast.nurse).post(url, {"purpose": "recording"}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()["fields"]
    assert not cast.patient.consents.exists()


def test_the_patient_page_lists_each_consent_with_who_and_when(cast: Cast) -> None:
    # The station's own zone, not the server's: an hour apart from Asia/Ho_Chi_Minh.
    cast.station.time_zone = "Asia/Shanghai"
    cast.station.save(update_fields=["time_zone"])
    given = consent_record(
        patient=cast.patient, purpose="telemedicine", status="given", actor=cast.nurse, via=Via()
    )
    withdrawn = consent_record(
        patient=cast.patient, purpose="recording", status="withdrawn", actor=cast.nurse, via=Via()
    )
    at = datetime(2026, 3, 4, 1, 5, tzinfo=ZoneInfo("UTC"))  # 09:05 in Shanghai
    Consent.objects.filter(pk=given.pk).update(recorded_at=at)
    page = logged_in(cast.nurse).get(f"/patients/{cast.patient.external_id}/")
    html = page.content.decode()
    table = html[html.index('id="consent-records"') :]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    cells = [c for row in rows if (c := re.findall(r"<td[^>]*>(.*?)</td>", row, re.S))]
    nurse = cast.nurse.display_name
    later = withdrawn.recorded_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%d/%m/%Y %H:%M")
    assert cells == [  # the latest first
        ["Ghi hình", "Đã rút lại", nurse, later],
        ["Khám chữa bệnh từ xa", "Đã đồng ý", nurse, "04/03/2026 09:05"],
    ]


def test_a_patient_without_consent_says_none_is_recorded(cast: Cast) -> None:
    html = logged_in(cast.nurse).get(f"/patients/{cast.patient.external_id}/").content.decode()
    assert "Chưa ghi nhận sự đồng ý nào" in html
