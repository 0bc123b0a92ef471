"""The desk's patient pages: the possible-duplicate step, every recorded field shown,
the edit with its history, and booking from the patient."""

import pytest
from django.conf import settings
from django.test import Client

from clinics.models import AuditEntry, Patient, PatientRevision, User
from consults.models import Consultation
from tests import factories
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def logged_in(user: User) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    client.force_login(user)
    return client


def twin(patient: Patient, **overrides: str) -> dict[str, str]:
    return {
        "full_name": "Nong Thi Hoa",
        "date_of_birth": patient.date_of_birth.strftime("%d/%m/%Y"),
        "sex": "female",
        "ethnicity": "Tày",
    } | overrides


def edit_page(patient: Patient) -> str:
    return f"/patients/{patient.external_id}/edit/"


def test_a_possible_duplicate_shows_the_candidates_and_keeps_the_form(cast: Cast) -> None:
    before = Patient.objects.count()
    response = logged_in(cast.nurse).post("/patients/", twin(cast.patient))
    assert response.status_code == 409
    page = response.content.decode()
    assert "Bệnh nhân này có thể đã được đăng ký tại trạm" in page
    assert f'href="/patients/{cast.patient.external_id}/"' in page
    assert cast.patient.date_of_birth.strftime("%d/%m/%Y") in page
    assert 'value="Nong Thi Hoa"' in page
    assert 'name="confirm_new" value="true"' in page
    assert "Vẫn tạo mới" in page
    assert Patient.objects.count() == before


def test_register_anyway_creates_the_second_person(cast: Cast) -> None:
    response = logged_in(cast.nurse).post("/patients/", twin(cast.patient, confirm_new="true"))
    assert response.status_code == 302
    assert Patient.objects.filter(name_folded="nong thi hoa").count() == 2


def test_the_patient_page_shows_ethnicity_and_no_dangling_address(cast: Cast) -> None:
    patient = factories.make_patient(
        cast.station, full_name="Hoàng Văn Páo", ethnicity="Nùng", commune="Thị trấn Tà Lùng"
    )
    page = logged_in(cast.nurse).get(f"/patients/{patient.external_id}/").content.decode()
    assert '<dd id="patient-ethnicity">Nùng</dd>' in page
    assert '<dd id="patient-address">Thị trấn Tà Lùng</dd>' in page
    assert "— Thị trấn" not in page
    patient.address, patient.commune = "Bản Nà Pài", ""
    patient.save()
    page = logged_in(cast.nurse).get(f"/patients/{patient.external_id}/").content.decode()
    assert '<dd id="patient-address">Bản Nà Pài</dd>' in page


def test_the_patient_page_books_a_consult_for_this_patient(cast: Cast) -> None:
    page = logged_in(cast.nurse).get(f"/patients/{cast.patient.external_id}/").content.decode()
    assert f'href="/book/?patient={cast.patient.external_id}"' in page
    booking = logged_in(cast.nurse).get(f"/book/?patient={cast.patient.external_id}")
    assert booking.status_code == 200
    assert booking.context["patient"] == cast.patient


def test_an_admin_may_edit_but_has_no_station_to_book_for(cast: Cast) -> None:
    page = logged_in(cast.admin).get(f"/patients/{cast.patient.external_id}/").content.decode()
    assert 'id="edit-patient"' in page
    assert 'id="book-patient"' not in page  # an admin is no station staff: nobody to book for


def test_the_edit_page_changes_the_record_keeps_a_revision_and_audits(cast: Cast) -> None:
    client = logged_in(cast.nurse)
    form = client.get(edit_page(cast.patient)).content.decode()
    assert 'value="Nông Thị Hoa"' in form
    assert f'value="{cast.patient.date_of_birth:%d/%m/%Y}"' in form
    posted = {
        "full_name": "Nông Thị Hòa",
        "date_of_birth": cast.patient.date_of_birth.strftime("%d/%m/%Y"),
        "sex": "female",
        "citizen_id": cast.patient.citizen_id,
        "insurance_number": cast.patient.insurance_number,
        "phone": "0912 345 678",
        "ethnicity": "Tày",
    }
    response = client.post(edit_page(cast.patient), posted)
    assert response.status_code == 302
    cast.patient.refresh_from_db()
    assert (cast.patient.full_name, cast.patient.phone) == ("Nông Thị Hòa", "+84912345678")
    revision = PatientRevision.objects.get(patient=cast.patient)
    assert set(revision.changes) == {"full_name", "phone", "ethnicity"}
    assert AuditEntry.objects.filter(
        patient_id=cast.patient.external_id, action=AuditEntry.Action.UPDATE
    ).exists()
    page = client.get(f"/patients/{cast.patient.external_id}/").content.decode()
    assert "Lịch sử sửa hồ sơ" in page
    assert "Nông Thị Hoa" in page
    assert "0912 345 678" in page


def test_an_edit_with_a_bad_date_changes_nothing_and_says_why(cast: Cast) -> None:
    posted = {"full_name": "Nông Thị Hòa", "date_of_birth": "31/02/1990", "sex": "female"}
    response = logged_in(cast.nurse).post(edit_page(cast.patient), posted)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ngày này không có thật" in page
    assert 'value="31/02/1990"' in page
    cast.patient.refresh_from_db()
    assert cast.patient.full_name == "Nông Thị Hoa"
    assert not PatientRevision.objects.exists()


def test_the_outsider_cannot_open_the_edit_page(cast: Cast) -> None:
    client = logged_in(cast.outsider_nurse)
    assert client.get(edit_page(cast.patient)).status_code == 404
    posted = {"full_name": "X Y", "date_of_birth": "01/01/1980", "sex": "female"}
    assert client.post(edit_page(cast.patient), posted).status_code == 404
    assert not PatientRevision.objects.exists()


def test_a_specialist_on_the_consult_sees_the_patient_but_may_not_edit(
    cast: Cast, consultation: Consultation
) -> None:
    page = logged_in(cast.specialist).get(f"/patients/{cast.patient.external_id}/")
    assert page.status_code == 200
    assert 'id="edit-patient"' not in page.content.decode()
    assert logged_in(cast.specialist).get(edit_page(cast.patient)).status_code == 403


def test_the_patient_page_is_titled_with_the_name_alone_and_shows_its_history_once(
    cast: Cast,
) -> None:
    page = logged_in(cast.nurse).get(f"/patients/{cast.patient.external_id}/").content.decode()
    title = page[page.index("<title>") + len("<title>") : page.index("</title>")]
    assert title.strip() == f"{cast.patient.full_name} · Khám chữa bệnh từ xa"
    assert page.count('id="revisions"') == 1
