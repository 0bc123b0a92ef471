"""The station's patient pages: same access rules and services as the API."""

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from clinics.models import AuditEntry, Consent, Patient, User
from tests import factories
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def logged_in(user: User, language: str = "vi") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language  # as the language switch does
    client.force_login(user)
    return client


def page_of(patient: Patient) -> str:
    return f"/patients/{patient.external_id}/"


def registration(**overrides: str) -> dict[str, Any]:
    born = factories.date(1975, 8, 19)
    return {
        "full_name": "Sầm Văn Tuấn",
        "date_of_birth": born.strftime("%d/%m/%Y"),  # as the page asks for it
        "sex": "male",
        "citizen_id": factories.citizen_id_for(born),
        "insurance_number": "GD4040123456789",
        "consents": ["telemedicine", "recording"],
    } | overrides


def test_the_station_list_shows_its_own_patients_only(cast: Cast) -> None:
    page = logged_in(cast.nurse).get("/patients/").content.decode()
    assert "Nông Thị Hoa" in page
    assert "Lục Văn Sáng" not in page
    assert "Đăng ký bệnh nhân" in page


def test_the_outsider_cannot_list_open_search_or_change_a_patient(cast: Cast) -> None:
    client = logged_in(cast.outsider_nurse)
    assert "Nông Thị Hoa" not in client.get("/patients/").content.decode()
    search = client.get("/patients/", {"q": cast.patient.citizen_id}).content.decode()
    assert "Nông Thị Hoa" not in search
    assert client.get(page_of(cast.patient)).status_code == 404
    post = client.post(page_of(cast.patient), {"purpose": "recording", "status": "given"})
    assert post.status_code == 404
    assert not cast.patient.consents.exists()


def test_the_nurse_registers_a_patient_with_consent(cast: Cast) -> None:
    response = logged_in(cast.nurse).post("/patients/", registration())
    patient = Patient.objects.get(full_name="Sầm Văn Tuấn")
    assert response.status_code == 302
    assert response["Location"] == page_of(patient)
    assert patient.station == cast.station
    assert set(patient.consents.values_list("purpose", flat=True)) == {"telemedicine", "recording"}
    assert AuditEntry.objects.filter(patient_id=patient.external_id, action="create").exists()


@pytest.mark.parametrize("who", ["specialist", "coordinator", "admin"])
def test_it_refuses_a_registration_from_anyone_but_station_staff_with_403(
    cast: Cast, who: str
) -> None:
    for form in (registration(), {}):  # refused before the form is read: no field errors
        response = logged_in(getattr(cast, who)).post("/patients/", form)
        assert response.status_code == 403
        page = response.content.decode()
        assert "permission_denied" in page
        assert "Chỉ nhân viên trạm y tế xã mới thực hiện được việc này." in page
    assert not Patient.objects.filter(full_name="Sầm Văn Tuấn").exists()


def test_a_bad_registration_shows_field_errors_and_writes_nothing(cast: Cast) -> None:
    before = (Patient.objects.count(), Consent.objects.count())
    response = logged_in(cast.nurse).post(
        "/patients/", registration(citizen_id="12345", insurance_number="XX")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Số căn cước công dân (CCCD) phải gồm đúng 12 chữ số." in page
    assert "Số thẻ BHYT gồm 15 ký tự" in page
    assert 'value="Sầm Văn Tuấn"' in page  # what the nurse typed is kept
    assert (Patient.objects.count(), Consent.objects.count()) == before


def test_the_date_of_birth_is_read_as_day_month_year(cast: Cast) -> None:
    born = factories.date(1990, 9, 5)
    form = registration(
        full_name="Bế Thị Na", date_of_birth="5/9/1990", citizen_id=factories.citizen_id_for(born)
    )
    assert logged_in(cast.nurse).post("/patients/", form).status_code == 302
    assert Patient.objects.get(full_name="Bế Thị Na").date_of_birth == born


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("31/02/2019", "Ngày này không có thật"),
        ("12/31/1975", "Ngày này không có thật"),
        ("09-05-2019 AM", "Nhập ngày theo dạng dd/mm/yyyy"),
        ("2019", "Nhập ngày theo dạng dd/mm/yyyy"),
    ],
)
def test_a_date_of_birth_that_is_no_day_is_a_field_error(cast: Cast, typed: str, said: str) -> None:
    before = Patient.objects.count()
    response = logged_in(cast.nurse).post("/patients/", registration(date_of_birth=typed))
    assert response.status_code == 400
    page = response.content.decode()
    assert said in page
    assert f'value="{typed}"' in page
    assert Patient.objects.count() == before


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("01/01/2999", "Ngày sinh không thể ở tương lai."),
        ("01/01/1890", "Ngày sinh không thể trước năm 1900"),
    ],
)
def test_a_date_of_birth_out_of_bounds_says_so_and_nothing_about_a_guardian(
    cast: Cast, typed: str, said: str
) -> None:
    before = Patient.objects.count()
    form = registration(date_of_birth=typed, citizen_id="")
    response = logged_in(cast.nurse).post("/patients/", form)
    assert response.status_code == 400
    page = response.content.decode()
    assert said in page
    assert "Trẻ dưới 16 tuổi cần" not in page
    assert Patient.objects.count() == before


def test_the_patient_page_records_consent_and_is_audited(cast: Cast) -> None:
    client = logged_in(cast.nurse)
    assert client.get(page_of(cast.patient)).status_code == 200
    client.post(page_of(cast.patient), {"purpose": "recording", "status": "given"})
    assert cast.patient.consents.get().status == "given"
    reads = AuditEntry.objects.filter(patient_id=cast.patient.external_id, action="read")
    assert reads.exists()


def test_pages_switch_to_english(cast: Cast) -> None:
    client = logged_in(cast.nurse)
    client.post("/i18n/setlang/", {"language": "en", "next": "/patients/"})
    page = client.get("/patients/").content.decode()
    assert "Register a patient" in page
    assert '<html lang="en">' in page


def test_dates_are_shown_day_first(cast: Cast) -> None:
    page = logged_in(cast.nurse).get(page_of(cast.patient)).content.decode()
    assert cast.patient.date_of_birth.strftime("%d/%m/%Y") in page
