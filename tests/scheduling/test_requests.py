"""Consult requests: a station files one, the hospital's coordinators triage it."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from rest_framework.test import APIClient

from clinics.models import AuditEntry, User
from consults.models import Consultation
from consults.scheduling.models import ConsultRequest, SpecialistSchedule
from consults.scheduling.services import consultation_assign
from telehealth.errors import AppError
from tests import factories
from tests.conftest import Cast
from tests.scheduling.conftest import at

pytestmark = pytest.mark.django_db
Api = Callable[[User | None], APIClient]


def file(api: Api, cast: Cast, **fields: Any) -> Any:
    body = {
        "patient": str(cast.patient.external_id),
        "specialty": "cardiology",
        "hospital": str(cast.hospital.external_id),
        "reason": "Khó thở khi nằm, phù chân 2 tuần",
    } | fields
    return api(cast.nurse).post("/api/v1/requests/", body, format="json")


@pytest.fixture
def filed(cast: Cast, api: Api) -> str:
    response = file(api, cast)
    assert response.status_code == 201, response.json()
    return str(response.json()["id"])


def test_a_station_files_a_request(cast: Cast, api: Api, day: date) -> None:
    windows = [{"start": at(day, 8).isoformat(), "end": at(day, 11).isoformat()}]
    response = file(api, cast, urgency="urgent", preferred_windows=windows, notes="HA 150/95")
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "waiting"
    assert body["consultation"]["status"] == "requested"
    assert body["consultation"]["start"] is None
    assert body["preferred_windows"][0]["start"] == at(day, 8).isoformat()


def test_the_coordinators_queue_puts_urgent_first(cast: Cast, api: Api) -> None:
    first = file(api, cast).json()["id"]
    urgent = file(api, cast, urgency="urgent").json()["id"]
    queue = api(cast.coordinator).get("/api/v1/requests/", {"open": "1"}).json()["results"]
    assert [r["id"] for r in queue] == [urgent, first]
    assert queue[0]["waiting_minutes"] >= 0
    assert api(cast.other_coordinator).get("/api/v1/requests/").json()["results"] == []


def test_accepting_assigns_specialist_and_slot(
    cast: Cast, api: Api, filed: str, hours: SpecialistSchedule, day: date
) -> None:
    body = {
        "specialist": str(cast.specialist.external_id),
        "start": at(day, 9).isoformat(),
        "end": at(day, 9, 30).isoformat(),
    }
    response = api(cast.coordinator).post(f"/api/v1/requests/{filed}/accept/", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "accepted"
    consult = Consultation.objects.get(external_id=filed)
    assert (consult.status, consult.specialist, consult.start) == (
        "booked",
        cast.specialist,
        at(day, 9),
    )
    assert [e.to_status for e in consult.events.all()] == ["requested", "booked"]


def test_accepting_a_taken_slot_changes_nothing(
    cast: Cast, api: Api, filed: str, hours: SpecialistSchedule, day: date
) -> None:
    other = factories.make_patient(cast.station)
    factories.make_consultation(
        patient=other, specialist=cast.specialist, hospital=cast.hospital, start=at(day, 9)
    )
    body = {
        "specialist": str(cast.specialist.external_id),
        "start": at(day, 9).isoformat(),
        "end": at(day, 9, 30).isoformat(),
    }
    response = api(cast.coordinator).post(f"/api/v1/requests/{filed}/accept/", body, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"
    assert ConsultRequest.objects.get(consultation__external_id=filed).state == "waiting"


def test_accepting_a_specialist_of_another_hospital_is_refused(
    cast: Cast, api: Api, filed: str, hours: SpecialistSchedule, day: date
) -> None:
    body = {
        "specialist": str(cast.other_specialist.external_id),
        "start": at(day, 9).isoformat(),
        "end": at(day, 9, 30).isoformat(),
    }
    response = api(cast.coordinator).post(f"/api/v1/requests/{filed}/accept/", body, format="json")
    assert response.status_code == 404


def request_for(cast: Cast, specialty: str) -> ConsultRequest:
    """The station's request to the cast's hospital, for this specialty."""
    return factories.make_request(
        patient=cast.patient,
        hospital=cast.hospital,
        actor=cast.nurse,
        reason="Ban đỏ lan rộng",
        specialty=specialty,
    )


@pytest.mark.parametrize(
    ("specialty", "who", "code"),
    [
        ("dermatology", "specialist", "specialty_mismatch"),  # the right hospital
        ("cardiology", "other_specialist", "not_found"),  # the specialty, another hospital
    ],
)
def test_it_refuses_to_assign_a_specialist_who_does_not_practise_it_there(
    cast: Cast, hours: SpecialistSchedule, day: date, specialty: str, who: str, code: str
) -> None:
    req = request_for(cast, specialty)
    with pytest.raises(AppError) as refused:
        consultation_assign(
            consultation=req.consultation,
            specialist=getattr(cast, who),
            start=at(day, 9),
            end=at(day, 9, 30),
            actor=cast.coordinator,
        )
    assert refused.value.code == code
    consult = Consultation.objects.get(pk=req.consultation_id)
    assert (consult.status, consult.specialist, consult.start) == ("requested", None, None)


def test_the_api_refuses_a_specialist_outside_the_requested_specialty(
    cast: Cast, api: Api, hours: SpecialistSchedule, day: date
) -> None:
    req = request_for(cast, "dermatology")
    body = {
        "specialist": str(cast.specialist.external_id),
        "start": at(day, 9).isoformat(),
        "end": at(day, 9, 30).isoformat(),
    }
    url = f"/api/v1/requests/{req.consultation.external_id}/accept/"
    response = api(cast.coordinator).post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {
        "code": "specialty_mismatch",
        "message": "This specialist does not practise that specialty.",
        "fields": {"specialist": ["Not a specialist of the requested specialty."]},
    }
    assert ConsultRequest.objects.get(pk=req.pk).state == "waiting"


def test_asking_for_information_and_the_answer(cast: Cast, api: Api, filed: str) -> None:
    asked = api(cast.coordinator).post(
        f"/api/v1/requests/{filed}/ask-info/", {"message": "Gửi điện tâm đồ"}, format="json"
    )
    assert asked.json()["state"] == "needs_info"
    assert api(cast.nurse).get(f"/api/v1/requests/{filed}/").json()["coordinator_message"] == (
        "Gửi điện tâm đồ"
    )
    answered = api(cast.nurse).post(
        f"/api/v1/requests/{filed}/answer/", {"message": "ĐTĐ: nhịp xoang 88"}, format="json"
    )
    assert answered.json()["state"] == "waiting"
    assert "nhịp xoang" in answered.json()["notes"]


def test_declining_cancels_with_the_reason(cast: Cast, api: Api, filed: str) -> None:
    response = api(cast.coordinator).post(
        f"/api/v1/requests/{filed}/decline/", {"message": "Chuyển tuyến tỉnh"}, format="json"
    )
    assert response.json()["state"] == "declined"
    assert response.json()["consultation"]["status"] == "cancelled"
    again = api(cast.coordinator).post(
        f"/api/v1/requests/{filed}/ask-info/", {"message": "?"}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"


def test_a_station_cannot_triage_and_a_coordinator_cannot_answer(
    cast: Cast, api: Api, filed: str
) -> None:
    body = {"message": "x"}
    assert (
        api(cast.nurse).post(f"/api/v1/requests/{filed}/decline/", body, format="json").status_code
        == 403
    )
    assert (
        api(cast.coordinator)
        .post(f"/api/v1/requests/{filed}/answer/", body, format="json")
        .status_code
        == 403
    )


def test_outsiders_do_not_see_the_request(cast: Cast, api: Api, filed: str) -> None:
    for user in (cast.outsider_nurse, cast.other_coordinator, cast.other_specialist):
        assert api(user).get(f"/api/v1/requests/{filed}/").status_code == 404
        response = api(user).post(
            f"/api/v1/requests/{filed}/decline/", {"message": "x"}, format="json"
        )
        assert response.status_code == 404


def test_filing_refuses_bad_input(cast: Cast, api: Api) -> None:
    assert file(api, cast, patient=str(cast.other_patient.external_id)).status_code == 404
    assert file(api, cast, hospital=str(cast.station.external_id)).status_code == 404
    assert file(api, cast, specialty="astrology").json()["code"] == "unknown_specialty"
    assert file(api, cast, reason="").status_code == 400
    assert file(api, cast, preferred_windows=[{"start": "soon"}]).status_code == 400


def file_with_key(api: Api, cast: Cast, key: str) -> Any:
    body = {
        "patient": str(cast.patient.external_id),
        "specialty": "cardiology",
        "hospital": str(cast.hospital.external_id),
        "reason": "Khó thở khi nằm, phù chân 2 tuần",
    }
    client = api(cast.nurse)
    return client.post("/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_nurse_removed_from_her_station_cannot_replay_a_filed_request(
    cast: Cast, api: Api
) -> None:
    assert file_with_key(api, cast, "req-1").status_code == 201
    cast.nurse.memberships.update(is_active=False)
    again = file_with_key(api, cast, "req-1")
    assert again.status_code == 404
    assert cast.patient.full_name not in again.content.decode()
    assert not AuditEntry.objects.filter(action="read").exists()


def test_a_replayed_request_is_the_stored_answer_audited_as_a_read_of_its_consult(
    cast: Cast, api: Api
) -> None:
    first = file_with_key(api, cast, "req-2")
    again = file_with_key(api, cast, "req-2")
    assert again.status_code == 201
    assert again.json() == first.json()
    [read] = AuditEntry.objects.filter(action="read")
    assert (read.object_type, read.object_id) == ("consultation", first.json()["id"])
    assert (read.actor, read.patient_id) == (cast.nurse, cast.patient.external_id)
