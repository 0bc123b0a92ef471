"""Consultation list/detail and lifecycle actions (check-in, cancel, no-show, failed,
reschedule)."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clinics.models import AuditEntry, User
from consults.models import Consultation
from consults.scheduling.models import Reminder, SpecialistSchedule
from tests import factories
from tests.conftest import Cast
from tests.scheduling.conftest import BookFn, at

pytestmark = pytest.mark.django_db
Api = Callable[[User | None], APIClient]


@pytest.fixture
def booked(cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn) -> Consultation:
    response = book(at(day, 9))
    assert response.status_code == 201
    return Consultation.objects.get(external_id=response.json()["id"])


@pytest.fixture
def due(cast: Cast) -> Consultation:
    """A booked consult starting in ten minutes: inside the check-in window."""
    return factories.make_consultation(
        patient=cast.patient,
        specialist=cast.specialist,
        hospital=cast.hospital,
        room=cast.room,
        start=timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=10),
    )


def url(consult: Consultation, action: str = "") -> str:
    return f"/api/v1/consultations/{consult.external_id}/" + (f"{action}/" if action else "")


def test_each_side_lists_its_consults(cast: Cast, booked: Consultation, api: Api) -> None:
    for user in (cast.nurse, cast.specialist, cast.coordinator, cast.admin):
        ids = [c["id"] for c in api(user).get("/api/v1/consultations/").json()["results"]]
        assert ids == [str(booked.external_id)], user
    for user in (cast.outsider_nurse, cast.other_specialist, cast.other_coordinator):
        assert api(user).get("/api/v1/consultations/").json()["results"] == [], user


def test_the_list_filters_by_time_and_status(
    cast: Cast, booked: Consultation, api: Api, day: date
) -> None:
    client = api(cast.nurse)
    params = {"from": at(day + timedelta(days=1), 0).isoformat()}
    assert client.get("/api/v1/consultations/", params).json()["count"] == 0
    assert client.get("/api/v1/consultations/", {"status": "cancelled"}).json()["count"] == 0
    assert client.get("/api/v1/consultations/", {"status": "booked"}).json()["count"] == 1


def test_the_list_refuses_a_malformed_time(cast: Cast, api: Api) -> None:
    assert api(cast.nurse).get("/api/v1/consultations/", {"from": "soon"}).status_code == 400


def test_the_detail_is_audited(cast: Cast, booked: Consultation, api: Api) -> None:
    response = api(cast.specialist).get(url(booked))
    assert response.status_code == 200
    assert response.json()["patient"]["full_name"] == cast.patient.full_name
    assert AuditEntry.objects.filter(
        actor=cast.specialist, action="read", object_id=str(booked.external_id)
    ).exists()


def test_an_outsider_cannot_see_the_detail(cast: Cast, booked: Consultation, api: Api) -> None:
    assert api(cast.outsider_nurse).get(url(booked)).status_code == 404
    assert api(cast.other_specialist).get(url(booked)).status_code == 404
    assert api(cast.nurse).get("/api/v1/consultations/not-a-uuid/").status_code == 404


def test_the_station_checks_the_patient_in(cast: Cast, due: Consultation, api: Api) -> None:
    response = api(cast.nurse).post(url(due, "check-in"))
    assert response.status_code == 200
    assert response.json()["status"] == "checked_in"
    event = due.events.last()
    assert event is not None
    assert (event.from_status, event.to_status, event.actor) == ("booked", "checked_in", cast.nurse)


def test_the_specialist_cannot_check_the_patient_in(
    cast: Cast, booked: Consultation, api: Api
) -> None:
    assert api(cast.specialist).post(url(booked, "check-in")).status_code == 403


def test_an_outsider_cannot_act_on_a_consult(cast: Cast, booked: Consultation, api: Api) -> None:
    for action, body in [
        ("check-in", {}),
        ("cancel", {"reason": "x"}),
        ("no-show", {"party": "station"}),
    ]:
        response = api(cast.outsider_nurse).post(url(booked, action), body, format="json")
        assert response.status_code == 404, action


def test_a_cancelled_consult_cannot_be_checked_in(
    cast: Cast, booked: Consultation, api: Api
) -> None:
    client = api(cast.nurse)
    response = client.post(
        url(booked, "cancel"), {"reason": "Bệnh nhân đã chuyển viện"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "Bệnh nhân đã chuyển viện"
    again = client.post(url(booked, "check-in"))
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"


def test_cancelling_records_who_and_why_frees_the_slot_and_stops_reminders(
    cast: Cast, booked: Consultation, api: Api, book: BookFn, day: date
) -> None:
    api(cast.specialist).post(url(booked, "cancel"), {"reason": "Họp khoa"}, format="json")
    booked.refresh_from_db()
    assert booked.cancelled_by == cast.specialist
    assert booked.sequence == 1
    assert not Reminder.objects.filter(consultation=booked, status="pending").exists()
    assert book(at(day, 9), key="again").status_code == 201


def test_cancelling_needs_a_reason(cast: Cast, booked: Consultation, api: Api) -> None:
    response = api(cast.nurse).post(url(booked, "cancel"), {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]


def test_a_no_show_names_the_party_after_the_start(cast: Cast, api: Api) -> None:
    past = timezone.now() - timedelta(minutes=20)
    consult = factories.make_consultation(
        patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital, start=past
    )
    response = api(cast.specialist).post(
        url(consult, "no-show"), {"party": "station"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["no_show_party"] == "station"


def test_a_no_show_is_refused_before_the_start(cast: Cast, booked: Consultation, api: Api) -> None:
    response = api(cast.nurse).post(url(booked, "no-show"), {"party": "specialist"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "too_early"


def test_a_no_show_needs_a_known_party(cast: Cast, booked: Consultation, api: Api) -> None:
    response = api(cast.nurse).post(url(booked, "no-show"), {"party": "nobody"}, format="json")
    assert response.status_code == 400


def test_rescheduling_moves_the_booking_and_keeps_history(
    cast: Cast, booked: Consultation, api: Api, book: BookFn, day: date
) -> None:
    body = {"start": at(day, 10).isoformat(), "end": at(day, 10, 30).isoformat()}
    response = api(cast.nurse).post(url(booked, "reschedule"), body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["start"] == at(day, 10).isoformat()
    booked.refresh_from_db()
    assert booked.sequence == 1
    last = booked.events.last()
    assert last is not None
    assert last.reason.startswith("rescheduled from")
    other = factories.make_patient(cast.station)
    assert book(at(day, 9), patient=str(other.external_id)).status_code == 201  # old time freed


def test_rescheduling_onto_a_taken_slot_changes_nothing(
    cast: Cast, booked: Consultation, api: Api, book: BookFn, day: date
) -> None:
    other = factories.make_patient(cast.station)
    from clinics.models import StationRoom

    room2 = StationRoom.objects.create(facility=cast.station, name="P2")
    assert (
        book(
            at(day, 10), patient=str(other.external_id), station_room=str(room2.external_id)
        ).status_code
        == 201
    )
    body = {"start": at(day, 10).isoformat(), "end": at(day, 10, 30).isoformat()}
    response = api(cast.nurse).post(url(booked, "reschedule"), body, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"
    booked.refresh_from_db()
    assert booked.start == at(day, 9)


def test_rescheduling_to_the_same_time_is_allowed(
    cast: Cast, booked: Consultation, api: Api, day: date
) -> None:
    body = {"start": at(day, 9).isoformat(), "end": at(day, 9, 30).isoformat()}
    assert (
        api(cast.coordinator).post(url(booked, "reschedule"), body, format="json").status_code
        == 200
    )


def test_the_specialist_cannot_reschedule(
    cast: Cast, booked: Consultation, api: Api, day: date
) -> None:
    body = {"start": at(day, 10).isoformat(), "end": at(day, 10, 30).isoformat()}
    assert (
        api(cast.specialist).post(url(booked, "reschedule"), body, format="json").status_code == 403
    )


def test_a_replayed_check_in_is_the_stored_answer_audited_as_a_read(
    cast: Cast, due: Consultation, api: Api
) -> None:
    client = api(cast.nurse)
    first = client.post(url(due, "check-in"), HTTP_IDEMPOTENCY_KEY="in-1")
    again = client.post(url(due, "check-in"), HTTP_IDEMPOTENCY_KEY="in-1")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replay"] == "true"
    [read] = AuditEntry.objects.filter(object_id=str(due.external_id), action="read")
    assert (read.actor, read.patient_id) == (cast.nurse, cast.patient.external_id)


def test_a_nurse_removed_from_her_station_cannot_replay_a_check_in(
    cast: Cast, due: Consultation, api: Api
) -> None:
    client = api(cast.nurse)
    assert client.post(url(due, "check-in"), HTTP_IDEMPOTENCY_KEY="in-2").status_code == 200
    cast.nurse.memberships.update(is_active=False)
    again = client.post(url(due, "check-in"), HTTP_IDEMPOTENCY_KEY="in-2")
    assert again.status_code == 404
    assert "Idempotent-Replay" not in again.headers
    assert not AuditEntry.objects.filter(action="read").exists()


def test_a_check_in_is_refused_before_the_window_opens(
    cast: Cast, booked: Consultation, api: Api
) -> None:
    response = api(cast.nurse).post(url(booked, "check-in"))
    assert response.status_code == 409
    assert response.json()["code"] == "outside_check_in_window"
    booked.refresh_from_db()
    assert booked.status == "booked"
    assert not booked.events.filter(to_status="checked_in").exists()


def test_a_check_in_is_refused_after_the_consults_end(cast: Cast, api: Api) -> None:
    long_past = factories.make_consultation(
        patient=cast.patient,
        specialist=cast.specialist,
        hospital=cast.hospital,
        start=timezone.now() - timedelta(hours=3),
    )
    response = api(cast.nurse).post(url(long_past, "check-in"))
    assert response.status_code == 409
    assert response.json()["code"] == "outside_check_in_window"


def test_the_window_follows_the_setting(
    cast: Cast, booked: Consultation, api: Api, settings: Any
) -> None:
    assert booked.start is not None
    settings.CHECK_IN_WINDOW_MINUTES = (
        int((booked.start - timezone.now()).total_seconds() // 60) + 5
    )
    assert api(cast.nurse).post(url(booked, "check-in")).status_code == 200


def test_a_failed_call_is_recorded_with_its_reason(cast: Cast, due: Consultation, api: Api) -> None:
    client = api(cast.nurse)
    assert client.post(url(due, "check-in")).status_code == 200
    reason = "Mất điện tại trạm, không gọi lại được"
    response = client.post(url(due, "failed"), {"reason": reason}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    event = due.events.last()
    assert event is not None
    assert (event.to_status, event.actor, event.reason) == ("failed", cast.nurse, reason)


def test_the_specialist_records_a_failed_call_too(cast: Cast, due: Consultation, api: Api) -> None:
    assert api(cast.nurse).post(url(due, "check-in")).status_code == 200
    body = {"reason": "Không có tiếng"}
    response = api(cast.specialist).post(url(due, "failed"), body, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid"),
        ({"reason": ""}, "invalid"),
        ({"reason": "x" * 301}, "invalid"),
        ({"reason": "x", "party": "station"}, "unknown_field"),
    ],
)
def test_a_failed_call_needs_a_reason(
    cast: Cast, due: Consultation, api: Api, body: dict[str, str], code: str
) -> None:
    client = api(cast.nurse)
    assert client.post(url(due, "check-in")).status_code == 200
    response = client.post(url(due, "failed"), body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    due.refresh_from_db()
    assert due.status == "checked_in"


def test_a_consult_not_checked_in_cannot_fail(cast: Cast, due: Consultation, api: Api) -> None:
    response = api(cast.nurse).post(url(due, "failed"), {"reason": "mạng"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_an_outsider_cannot_record_a_failed_call(cast: Cast, due: Consultation, api: Api) -> None:
    body = {"reason": "mạng"}
    response = api(cast.outsider_nurse).post(url(due, "failed"), body, format="json")
    assert response.status_code == 404
