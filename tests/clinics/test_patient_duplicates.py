"""Registering one person twice: the possible-duplicate step, and edits kept as revisions."""

from typing import Any

import pytest

from clinics.models import AuditEntry, Patient, PatientRevision
from tests import factories
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

LIST = "/api/v1/patients/"


def twin_of(patient: Patient, **overrides: Any) -> dict[str, Any]:
    """A registration of `patient` again, as a nurse might type it: no tones, no CCCD."""
    return {
        "full_name": "nong thi HOA",
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": "female",
    } | overrides


def test_the_same_name_and_birth_date_without_an_id_is_a_possible_duplicate(
    cast: Cast, api: Any
) -> None:
    before = Patient.objects.count()
    response = api(cast.nurse).post(LIST, twin_of(cast.patient), format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "possible_duplicate"
    assert [c["id"] for c in body["candidates"]] == [str(cast.patient.external_id)]
    assert body["candidates"][0]["full_name"] == "Nông Thị Hoa"
    assert body["candidates"][0]["matches"] == ["name_and_birth_date"]
    assert Patient.objects.count() == before


def test_confirm_new_registers_another_person_of_the_same_name_and_birthday(
    cast: Cast, api: Any
) -> None:
    response = api(cast.nurse).post(LIST, twin_of(cast.patient, confirm_new=True), format="json")
    assert response.status_code == 201
    assert "confirm_new" not in response.json()
    assert Patient.objects.filter(station=cast.station, name_folded="nong thi hoa").count() == 2


@pytest.mark.parametrize("field", ["insurance_number", "phone"])
def test_the_same_bhyt_or_phone_under_another_name_is_a_possible_duplicate(
    cast: Cast, api: Any, field: str
) -> None:
    cast.patient.phone = "+84912345678"
    cast.patient.save()
    given = {"insurance_number": cast.patient.insurance_number, "phone": "0912 345 678"}
    body = {"full_name": "Hoàng Văn Nam", "date_of_birth": "1990-03-04", "sex": "male"}
    response = api(cast.nurse).post(LIST, body | {field: given[field]}, format="json")
    assert response.status_code == 409
    assert response.json()["candidates"][0]["matches"] == [field]


def test_another_stations_patient_is_never_a_candidate(cast: Cast, api: Any) -> None:
    # Lục Văn Sáng is a patient of station 2: the nurse of station 1 neither sees him in the
    # candidates nor is stopped by him.
    other = cast.other_patient
    body = twin_of(other, full_name="Lục Văn Sáng")
    response = api(cast.nurse).post(LIST, body, format="json")
    assert response.status_code == 201


def test_a_different_birth_date_is_no_duplicate(cast: Cast, api: Any) -> None:
    born = cast.patient.date_of_birth.replace(year=cast.patient.date_of_birth.year - 1)
    response = api(cast.nurse).post(
        LIST, twin_of(cast.patient, date_of_birth=born.isoformat()), format="json"
    )
    assert response.status_code == 201


def test_the_same_cccd_stays_refused_even_with_confirm_new(cast: Cast, api: Any) -> None:
    body = twin_of(cast.patient, citizen_id=cast.patient.citizen_id, confirm_new=True)
    response = api(cast.nurse).post(LIST, body, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_citizen_id"


def test_confirm_new_that_is_no_boolean_is_a_field_error(cast: Cast, api: Any) -> None:
    response = api(cast.nurse).post(
        LIST, twin_of(cast.patient, confirm_new="perhaps"), format="json"
    )
    assert response.status_code == 400
    assert "confirm_new" in response.json()["fields"]


def test_an_edit_keeps_what_each_field_was(cast: Cast, api: Any) -> None:
    old_name = cast.patient.full_name
    response = api(cast.nurse).patch(
        f"/api/v1/patients/{cast.patient.external_id}/",
        {"full_name": "Nông Thị Hòa", "ethnicity": "Nùng", "address": ""},
        format="json",
    )
    assert response.status_code == 200
    revision = PatientRevision.objects.get(patient=cast.patient)
    assert revision.changed_by == cast.nurse
    assert revision.changes == {
        "full_name": {"old": old_name, "new": "Nông Thị Hòa"},
        "ethnicity": {"old": "", "new": "Nùng"},
    }
    assert AuditEntry.objects.filter(
        patient_id=cast.patient.external_id, action=AuditEntry.Action.UPDATE
    ).exists()


def test_an_edit_that_changes_nothing_keeps_no_revision(cast: Cast, api: Any) -> None:
    response = api(cast.nurse).patch(
        f"/api/v1/patients/{cast.patient.external_id}/",
        {"full_name": cast.patient.full_name},
        format="json",
    )
    assert response.status_code == 200
    assert not PatientRevision.objects.exists()


def test_a_refused_edit_keeps_no_revision(cast: Cast, api: Any) -> None:
    response = api(cast.nurse).patch(
        f"/api/v1/patients/{cast.patient.external_id}/",
        {"full_name": "Nông Thị Hòa", "date_of_birth": "1890-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert not PatientRevision.objects.exists()
    cast.patient.refresh_from_db()
    assert cast.patient.full_name == "Nông Thị Hoa"


def test_the_outsider_cannot_edit_and_leaves_no_revision(cast: Cast, api: Any) -> None:
    response = api(cast.outsider_nurse).patch(
        f"/api/v1/patients/{cast.patient.external_id}/", {"full_name": "X Y"}, format="json"
    )
    assert response.status_code == 404
    assert not PatientRevision.objects.exists()


def test_a_patient_saved_anywhere_gets_its_folded_name(cast: Cast) -> None:
    patient = factories.make_patient(cast.station, full_name="Đinh Thị Ngọc")
    assert patient.name_folded == "dinh thi ngoc"
