"""Scheduling pages: book (station), agenda (all), availability (specialist), triage, and
consult requests (filed and answered by the station)."""

from datetime import date
from urllib.parse import urlencode

import pytest
from django.test import Client

from clinics.audit import Via
from clinics.models import User
from consults.models import Consultation
from consults.scheduling.models import AvailabilityRule, ConsultRequest, SpecialistSchedule
from consults.scheduling.triage import consult_request_ask_info, consult_request_file
from tests import factories
from tests.conftest import Cast
from tests.scheduling.conftest import at

pytestmark = pytest.mark.django_db


def logged_in(user: User, language: str = "vi") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def confirm_url(cast: Cast, day: date, hour: int = 9) -> str:
    query = {
        "patient": str(cast.patient.external_id),
        "specialist": str(cast.specialist.external_id),
        "specialty": "cardiology",
        "start": at(day, hour).isoformat(),
        "end": at(day, hour, 30).isoformat(),
    }
    return "/book/confirm/?" + urlencode(query)


def test_the_booking_page_lists_the_earliest_slots_with_hospitals(
    cast: Cast, hours: SpecialistSchedule
) -> None:
    client = logged_in(cast.nurse)
    query = {"patient": str(cast.patient.external_id), "specialty": "cardiology"}
    page = client.get("/book/", query).content.decode()
    assert 'id="slot-list"' in page
    assert cast.hospital.name in page
    assert cast.hospital2.name in page


def test_confirming_books_and_lands_on_the_agenda(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    client = logged_in(cast.nurse)
    assert client.get(confirm_url(cast, day)).status_code == 200
    form = {
        "patient": str(cast.patient.external_id),
        "specialist": str(cast.specialist.external_id),
        "specialty": "cardiology",
        "start": at(day, 9).isoformat(),
        "end": at(day, 9, 30).isoformat(),
        "reason": "Đau ngực",
        "urgency": "routine",
        "mode": "video",
    }
    response = client.post("/book/confirm/", form)
    assert response.status_code == 302
    assert Consultation.objects.filter(status="booked", start=at(day, 9)).count() == 1
    again = client.post("/book/confirm/", form)  # the form resent over a weak link
    assert again.status_code == 302
    assert Consultation.objects.count() == 1
    agenda = client.get(response["Location"]).content.decode()
    assert "Nông Thị Hoa" in agenda
    assert "09:00" in agenda


def test_confirming_a_taken_slot_shows_the_reason(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    form = {
        "patient": str(cast.patient.external_id),
        "specialist": str(cast.specialist.external_id),
        "start": at(day, 18).isoformat(),
        "end": at(day, 18, 30).isoformat(),
    }
    response = logged_in(cast.nurse, "en").post("/book/confirm/", form)
    assert response.status_code == 409
    assert "does not see patients at this time" in response.content.decode()


def test_the_booking_page_is_for_station_staff(cast: Cast) -> None:
    assert logged_in(cast.specialist).get("/book/").status_code == 403


def test_an_outsider_nurse_cannot_book_another_stations_patient(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    assert logged_in(cast.outsider_nurse).get(confirm_url(cast, day)).status_code == 404
    query = {"patient": str(cast.patient.external_id), "specialty": "cardiology"}
    assert logged_in(cast.outsider_nurse).get("/book/", query).status_code == 404


def test_the_specialists_agenda_shows_the_consult_and_outsiders_see_nothing(
    cast: Cast, consultation: Consultation
) -> None:
    day = consultation.start.astimezone(at(date.today(), 0).tzinfo).date()  # type: ignore[union-attr]
    page = logged_in(cast.specialist).get("/agenda/", {"day": day.isoformat()}).content.decode()
    assert "Nông Thị Hoa" in page
    other = logged_in(cast.other_specialist).get("/agenda/", {"day": day.isoformat()})
    assert "Nông Thị Hoa" not in other.content.decode()


def test_a_specialist_edits_their_weekly_hours(cast: Cast) -> None:
    client = logged_in(cast.specialist)
    form = {
        "action": "add_rule",
        "weekday": "0",
        "start_time": "08:00",
        "end_time": "11:00",
        "slot_minutes": "20",
    }
    assert client.post("/availability/", form).status_code == 302
    rule = AvailabilityRule.objects.get(specialist=cast.specialist)
    assert (rule.weekday, rule.slot_minutes) == (0, 20)
    bad = client.post("/availability/", form | {"end_time": "07:00"}, follow=True)
    assert AvailabilityRule.objects.count() == 1
    assert "errorlist" in bad.content.decode() or "msg error" in bad.content.decode()
    client.post("/availability/", {"action": "delete_rule", "id": str(rule.external_id)})
    assert not AvailabilityRule.objects.exists()


def test_a_coordinator_edits_their_hospitals_specialist_but_not_another(cast: Cast) -> None:
    client = logged_in(cast.coordinator)
    mine = client.get("/availability/", {"specialist": str(cast.specialist.external_id)})
    assert mine.status_code == 200
    other = client.get("/availability/", {"specialist": str(cast.other_specialist.external_id)})
    assert other.status_code == 404


def test_the_triage_page_accepts_a_request(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    req = consult_request_file(
        patient=cast.patient,
        specialty=factories.make_specialty(),
        hospital=cast.hospital,
        reason="Khó thở",
        urgency="urgent",
        preferred_windows=[],
        notes="",
        actor=cast.nurse,
        via=Via.system(),
    )
    client = logged_in(cast.coordinator)
    page = client.get("/triage/").content.decode()
    assert "Khó thở" in page
    form = {
        "request": str(req.consultation.external_id),
        "action": "accept",
        "specialist": str(cast.specialist.external_id),
        "start": at(day, 9).isoformat(),
        "end": at(day, 9, 30).isoformat(),
    }
    assert client.post("/triage/", form).status_code == 302
    assert ConsultRequest.objects.get(pk=req.pk).state == "accepted"


def test_the_triage_page_is_for_coordinators(cast: Cast) -> None:
    assert logged_in(cast.nurse).get("/triage/").status_code == 403
    assert logged_in(cast.other_coordinator).get("/triage/").status_code == 200


# --- consult requests from the agenda: file one, answer the coordinator's question -------


def request_form(cast: Cast, **changes: str) -> dict[str, str]:
    return {
        "patient": str(cast.patient.external_id),
        "hospital": str(cast.hospital.external_id),
        "specialty": "cardiology",
        "reason": "Khó thở khi gắng sức, phù chân",
        "urgency": "urgent",
        "notes": "Đã làm điện tim tại trạm.",
    } | changes


def test_the_station_files_a_request_from_the_page(cast: Cast) -> None:
    factories.make_specialty("cardiology")
    response = logged_in(cast.nurse).post("/requests/file/", request_form(cast), follow=True)
    assert response.redirect_chain == [("/agenda/", 302)]
    req = ConsultRequest.objects.select_related("consultation").get()
    consult = req.consultation
    assert (req.state, req.notes) == ("waiting", "Đã làm điện tim tại trạm.")
    assert (consult.status, consult.urgency, consult.hospital) == (
        "requested",
        "urgent",
        cast.hospital,
    )
    assert (consult.patient, consult.created_by) == (cast.patient, cast.nurse)
    page = response.content.decode()
    assert "Bệnh viện Bạch Mai" in page  # the message, and the request in the agenda's list
    assert 'id="requests"' in page


@pytest.mark.parametrize(
    "changes",
    [
        {"reason": "  "},
        {"specialty": "no-such-specialty"},
        {"hospital": "not-a-uuid"},
        {"hospital": "00000000-0000-0000-0000-000000000000"},
    ],
)
def test_a_request_without_hospital_specialty_or_reason_is_refused(
    cast: Cast, changes: dict[str, str]
) -> None:
    factories.make_specialty("cardiology")
    response = logged_in(cast.nurse, "en").post("/requests/file/", request_form(cast, **changes))
    assert response.status_code == 400
    assert "Choose a hospital and a specialty, and give the reason." in response.content.decode()
    assert not ConsultRequest.objects.exists()


def test_a_station_cannot_be_the_hospital_of_a_request(cast: Cast) -> None:
    factories.make_specialty("cardiology")
    form = request_form(cast, hospital=str(cast.station2.external_id))
    assert logged_in(cast.nurse).post("/requests/file/", form).status_code == 400
    assert not ConsultRequest.objects.exists()


def test_only_the_patients_station_files_a_request(cast: Cast) -> None:
    factories.make_specialty("cardiology")
    form = request_form(cast)
    assert logged_in(cast.outsider_nurse).post("/requests/file/", form).status_code == 404
    assert logged_in(cast.specialist).post("/requests/file/", form).status_code == 403
    assert logged_in(cast.coordinator).post("/requests/file/", form).status_code == 403
    assert Client().post("/requests/file/", form).status_code == 302  # to the login page
    assert logged_in(cast.nurse).get("/requests/file/").status_code == 405
    assert not ConsultRequest.objects.exists()


@pytest.fixture
def asked(cast: Cast) -> ConsultRequest:
    """A request the coordinator asked more information about."""
    req = consult_request_file(
        patient=cast.patient,
        specialty=factories.make_specialty(),
        hospital=cast.hospital,
        reason="Khó thở",
        urgency="urgent",
        preferred_windows=[],
        notes="Huyết áp 150/90.",
        actor=cast.nurse,
        via=Via.system(),
    )
    return consult_request_ask_info(
        request=req, message="Xin ảnh điện tim.", actor=cast.coordinator
    )


def test_the_station_answers_the_coordinators_question(cast: Cast, asked: ConsultRequest) -> None:
    client = logged_in(cast.nurse)
    agenda = client.get("/agenda/").content.decode()
    assert "Xin ảnh điện tim." in agenda  # the question, with its answer form
    form = {"request": str(asked.consultation.external_id), "message": "Ảnh điện tim gửi kèm."}
    response = client.post("/requests/answer/", form)
    assert (response.status_code, response["Location"]) == (302, "/agenda/")
    asked.refresh_from_db()
    assert asked.state == "waiting"  # back in the hospital's queue
    assert asked.notes == "Huyết áp 150/90.\n\nẢnh điện tim gửi kèm."


def test_an_empty_or_unknown_answer_changes_nothing(cast: Cast, asked: ConsultRequest) -> None:
    client = logged_in(cast.nurse)
    empty = {"request": str(asked.consultation.external_id), "message": "   "}
    assert client.post("/requests/answer/", empty).status_code == 302
    unknown = {"request": "00000000-0000-0000-0000-000000000000", "message": "Có"}
    assert client.post("/requests/answer/", unknown).status_code == 404
    assert client.post("/requests/answer/", {"message": "Có"}).status_code == 404
    asked.refresh_from_db()
    assert (asked.state, asked.notes) == ("needs_info", "Huyết áp 150/90.")


def test_only_the_requesting_station_answers(cast: Cast, asked: ConsultRequest) -> None:
    form = {"request": str(asked.consultation.external_id), "message": "Có"}
    assert logged_in(cast.outsider_nurse).post("/requests/answer/", form).status_code == 404
    assert logged_in(cast.other_coordinator).post("/requests/answer/", form).status_code == 404
    assert logged_in(cast.coordinator).post("/requests/answer/", form).status_code == 403
    assert Client().post("/requests/answer/", form).status_code == 302  # to the login page
    asked.refresh_from_db()
    assert (asked.state, asked.notes) == ("needs_info", "Huyết áp 150/90.")
