"""Patients over the API: who sees what, registration, search, updates, audit."""

from typing import Any

import pytest

from clinics.models import AuditEntry, Consent, Patient
from tests import factories
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

LIST = "/api/v1/patients/"


def detail(patient: Patient) -> str:
    return f"/api/v1/patients/{patient.external_id}/"


def new_patient(**overrides: Any) -> dict[str, Any]:
    born = factories.date(1984, 2, 29)
    body = {
        "full_name": "  Hoàng   Thị  Lan ",
        "date_of_birth": born.isoformat(),
        "sex": "female",
        "citizen_id": factories.citizen_id_for(born, female=True),
        "insurance_number": "dn4790123456789",
        "phone": "0912 345 678",
        "ethnicity": "Tày",
        "consents": ["telemedicine"],
    }
    return body | overrides


def test_it_lists_only_the_nurses_own_station(cast: Cast, api: Any) -> None:
    response = api(cast.nurse).get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [p["id"] for p in body["results"]] == [str(cast.patient.external_id)]


def test_it_hides_another_stations_patients_from_the_outsider(cast: Cast, api: Any) -> None:
    outsider = api(cast.outsider_nurse)
    assert str(cast.patient.external_id) not in outsider.get(LIST).content.decode()
    search = outsider.get(LIST, {"q": cast.patient.citizen_id}).json()
    assert search["count"] == 0
    assert outsider.get(detail(cast.patient)).status_code == 404
    assert outsider.get(detail(cast.patient)).json()["code"] == "not_found"
    patched = outsider.patch(detail(cast.patient), {"full_name": "X"}, format="json")
    assert patched.status_code == 404
    consent = outsider.post(
        detail(cast.patient) + "consents/",
        {"purpose": "recording", "status": "given"},
        format="json",
    )
    assert consent.status_code == 404
    cast.patient.refresh_from_db()
    assert cast.patient.full_name == "Nông Thị Hoa"
    assert not cast.patient.consents.exists()


def test_a_malformed_id_is_not_found(cast: Cast, api: Any) -> None:
    response = api(cast.nurse).get("/api/v1/patients/not-a-uuid/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_specialist_sees_a_patient_only_through_a_consult(cast: Cast, api: Any) -> None:
    specialist = api(cast.specialist)
    assert specialist.get(detail(cast.patient)).status_code == 404
    assert specialist.get(LIST).json()["count"] == 0
    factories.make_consultation(
        patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital
    )
    assert specialist.get(detail(cast.patient)).status_code == 200
    assert api(cast.other_specialist).get(detail(cast.patient)).status_code == 404


def test_a_coordinator_sees_patients_of_consults_at_their_hospital(cast: Cast, api: Any) -> None:
    factories.make_consultation(
        patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital
    )
    assert api(cast.coordinator).get(detail(cast.patient)).status_code == 200
    assert api(cast.other_coordinator).get(detail(cast.patient)).status_code == 404


def test_an_admin_sees_every_station(cast: Cast, api: Any) -> None:
    assert api(cast.admin).get(LIST).json()["count"] == 2


def test_a_specialist_may_read_but_not_change_a_patient(cast: Cast, api: Any) -> None:
    factories.make_consultation(
        patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital
    )
    response = api(cast.specialist).patch(
        detail(cast.patient), {"phone": "0987654321"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_it_registers_a_patient_with_consent_and_audits_it(cast: Cast, api: Any) -> None:
    response = api(cast.nurse).post(LIST, new_patient(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["full_name"] == "Hoàng Thị Lan"
    assert body["insurance_number"] == "DN4790123456789"
    assert body["phone"] == "+84912345678"
    assert body["station"]["id"] == str(cast.station.external_id)
    patient = Patient.objects.get(external_id=body["id"])
    assert patient.registered_by == cast.nurse
    consent = patient.consents.get()
    assert (consent.purpose, consent.status, consent.recorded_by) == (
        "telemedicine",
        "given",
        cast.nurse,
    )
    entries = AuditEntry.objects.filter(patient_id=patient.external_id, action="create")
    assert {e.object_type for e in entries} == {"patient", "consent"}
    assert all(e.actor == cast.nurse and e.channel == "http" for e in entries)


def test_a_retry_with_the_same_idempotency_key_makes_one_patient(cast: Cast, api: Any) -> None:
    client = api(cast.nurse)
    body = new_patient()
    first = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    second = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Idempotent-Replay"] == "true"
    assert Patient.objects.filter(full_name="Hoàng Thị Lan").count() == 1


def test_the_same_key_for_a_different_body_is_refused(cast: Cast, api: Any) -> None:
    client = api(cast.nurse)
    client.post(LIST, new_patient(), format="json", HTTP_IDEMPOTENCY_KEY="reg-2")
    other = new_patient(full_name="Người Khác", citizen_id="")
    response = client.post(LIST, other, format="json", HTTP_IDEMPOTENCY_KEY="reg-2")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert not Patient.objects.filter(full_name="Người Khác").exists()


@pytest.mark.parametrize("who", ["specialist", "coordinator"])
def test_only_station_staff_register_patients(cast: Cast, api: Any, who: str) -> None:
    for body in (new_patient(), {}):  # refused before the body is validated
        response = api(getattr(cast, who)).post(LIST, body, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
        assert set(response.json()) == {"code", "message", "fields"}
    assert not Patient.objects.filter(full_name="Hoàng Thị Lan").exists()


@pytest.mark.parametrize(
    ("q", "found"),
    [("hoa", True), ("Nông", True), ("citizen", True), ("insurance", True), ("Không Có", False)],
)
def test_it_searches_by_name_cccd_or_bhyt(cast: Cast, api: Any, q: str, found: bool) -> None:
    if q in {"citizen", "insurance"}:
        value = getattr(cast.patient, f"{q}_id" if q == "citizen" else "insurance_number")
        q = value[:3] + " " + value[3:]  # typed with a space: still found
    results = api(cast.nurse).get(LIST, {"q": q}).json()["results"]
    assert ([r["id"] for r in results] == [str(cast.patient.external_id)]) is found


def test_every_patient_read_is_audited(cast: Cast, api: Any) -> None:
    client = api(cast.nurse)
    client.get(LIST)
    client.get(detail(cast.patient))
    client.get(detail(cast.patient) + "consents/")
    reads = AuditEntry.objects.filter(patient_id=cast.patient.external_id, action="read")
    assert reads.count() == 3
    assert {r.actor for r in reads} == {cast.nurse}


def test_an_update_is_applied_and_audited(cast: Cast, api: Any) -> None:
    response = api(cast.nurse).patch(
        detail(cast.patient), {"phone": "+84912000111", "address": "Bản Nà Lần"}, format="json"
    )
    assert response.status_code == 200
    cast.patient.refresh_from_db()
    assert (cast.patient.phone, cast.patient.address) == ("+84912000111", "Bản Nà Lần")
    assert AuditEntry.objects.filter(
        patient_id=cast.patient.external_id, action="update", actor=cast.nurse
    ).exists()


def test_consent_is_recorded_per_purpose_and_kept_as_history(cast: Cast, api: Any) -> None:
    client = api(cast.nurse)
    url = detail(cast.patient) + "consents/"
    assert (
        client.post(url, {"purpose": "recording", "status": "given"}, format="json").status_code
        == 201
    )
    assert (
        client.post(
            url,
            {"purpose": "recording", "status": "withdrawn", "note": "Không muốn ghi hình"},
            format="json",
        ).status_code
        == 201
    )
    rows = client.get(url).json()["results"]
    assert [(r["purpose"], r["status"]) for r in rows] == [
        ("recording", "withdrawn"),
        ("recording", "given"),
    ]
    assert rows[0]["recorded_by"]["username"] == "nurse"
    assert Consent.objects.filter(patient=cast.patient).count() == 2
