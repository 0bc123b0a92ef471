"""POST /api/v1/consultations/: booking a slot, and every way it is refused."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from clinics.models import AuditEntry, IdempotencyRecord, StationRoom
from consults.models import Consultation, ConsultationEvent
from consults.scheduling.models import AvailabilityOverride, Reminder, SpecialistSchedule, TimeOff
from tests import factories
from tests.conftest import Cast
from tests.scheduling.conftest import BookFn, at

pytestmark = pytest.mark.django_db


def test_it_books_a_free_slot(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    response = book(at(day, 9))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "booked"
    assert body["start"] == at(day, 9).isoformat()
    assert body["specialist"]["id"] == str(cast.specialist.external_id)
    assert body["hospital"]["name"] == cast.hospital.name
    assert body["station_room"]["id"] == str(cast.room.external_id)
    consult = Consultation.objects.get(external_id=body["id"])
    assert consult.created_by == cast.nurse
    assert consult.specialty.code == "cardiology"
    assert [(e.from_status, e.to_status) for e in consult.events.all()] == [("", "booked")]
    assert AuditEntry.objects.filter(object_id=body["id"], action="create").exists()
    assert Reminder.objects.filter(consultation=consult, kind="24h").count() == 4


def test_retrying_with_the_same_idempotency_key_returns_the_same_consult(
    hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    first = book(at(day, 9), key="tap-1")
    again = book(at(day, 9), key="tap-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again["Idempotent-Replay"] == "true"
    assert Consultation.objects.count() == 1


def test_a_retry_past_the_idempotency_retention_is_booked_anew_and_refused(
    hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    assert book(at(day, 9), key="tap-2").status_code == 201
    IdempotencyRecord.objects.filter(key="tap-2").update(
        created_at=timezone.now() - timedelta(hours=48, minutes=1)
    )
    again = book(at(day, 9), key="tap-2")
    assert again.status_code == 409
    assert again.json()["code"] == "slot_taken"
    assert Consultation.objects.count() == 1


def test_it_refuses_a_slot_already_taken(
    hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    assert book(at(day, 9)).status_code == 201
    response = book(at(day, 9), key="another")
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"


def test_it_refuses_another_patient_in_a_taken_slot(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    second = factories.make_patient(cast.station)
    second_room = StationRoom.objects.create(facility=cast.station, name="Phòng 2")
    assert book(at(day, 9)).status_code == 201
    response = book(
        at(day, 9), patient=str(second.external_id), station_room=str(second_room.external_id)
    )
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"
    assert response.json()["message"]


def test_it_refuses_the_buffer_after_a_consult(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    hours.buffer_minutes = 10
    hours.save()
    second = factories.make_patient(cast.station)
    second_room = StationRoom.objects.create(facility=cast.station, name="Phòng 2")
    assert book(at(day, 9)).status_code == 201
    response = book(
        at(day, 9, 30), patient=str(second.external_id), station_room=str(second_room.external_id)
    )
    assert response.json()["code"] == "slot_taken"


def test_it_refuses_when_the_station_room_is_busy(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    assert book(at(day, 9)).status_code == 201
    second = factories.make_patient(cast.station)
    response = book(
        at(day, 9),
        patient=str(second.external_id),
        specialist=str(cast.other_specialist.external_id),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "room_busy"


def test_it_refuses_a_patient_already_booked_at_that_time(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    room2 = StationRoom.objects.create(facility=cast.station, name="Phòng 2")
    assert book(at(day, 9)).status_code == 201
    response = book(
        at(day, 9),
        specialist=str(cast.other_specialist.external_id),
        station_room=str(room2.external_id),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "patient_busy"


def test_it_refuses_a_time_outside_the_specialists_hours(
    hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    response = book(at(day, 18))
    assert response.status_code == 409
    assert response.json()["code"] == "outside_availability"


def test_it_refuses_a_day_off_and_time_off(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    AvailabilityOverride.objects.create(specialist=cast.specialist, date=day, day_off=True)
    TimeOff.objects.create(
        specialist=cast.specialist,
        start=at(day, 0) + timedelta(days=1),
        end=at(day, 23) + timedelta(days=1),
    )
    assert book(at(day, 9)).json()["code"] == "outside_availability"
    assert book(at(day + timedelta(days=1), 9)).json()["code"] == "outside_availability"


def test_it_refuses_a_start_off_the_slot_boundary(
    hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    response = book(at(day, 9, 10))
    assert response.status_code == 400
    assert response.json()["code"] == "not_on_slot_boundary"
    assert book(at(day, 9), minutes=45).json()["code"] == "not_on_slot_boundary"


def test_it_refuses_an_end_before_the_start(
    hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    response = book(at(day, 9), minutes=-30)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_range"


def test_it_refuses_a_time_in_the_past_or_inside_the_notice(
    hours: SpecialistSchedule, book: BookFn
) -> None:
    past = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    response = book(past)
    assert response.status_code == 409
    assert response.json()["code"] == "too_late"
    soon = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=30)
    assert book(soon).json()["code"] == "too_late"


def test_it_refuses_a_time_beyond_the_horizon(
    hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    response = book(at(day + timedelta(weeks=9), 9))
    assert response.status_code == 400
    assert response.json()["code"] == "beyond_horizon"


def test_it_refuses_a_full_day(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    hours.max_per_day = 1
    hours.save()
    assert book(at(day, 9)).status_code == 201
    second = factories.make_patient(cast.station)
    response = book(at(day, 10), patient=str(second.external_id))
    assert response.status_code == 409
    assert response.json()["code"] == "daily_cap_reached"


def test_it_refuses_a_naive_time(cast: Cast, hours: SpecialistSchedule, day: date, api) -> None:  # type: ignore[no-untyped-def]
    body = {
        "patient": str(cast.patient.external_id),
        "specialist": str(cast.specialist.external_id),
        "start": f"{day.isoformat()}T09:00:00",
        "end": f"{day.isoformat()}T09:30:00",
    }
    response = api(cast.nurse).post("/api/v1/consultations/", body, format="json")
    assert response.status_code == 400
    assert "start" in response.json()["fields"]


def test_it_refuses_a_specialist_without_that_specialty(
    hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    factories.make_specialty("dermatology")
    response = book(at(day, 9), specialty="dermatology")
    assert response.status_code == 400
    assert response.json()["code"] == "specialty_mismatch"


def test_it_refuses_unknown_fields(hours: SpecialistSchedule, day: date, book: BookFn) -> None:
    response = book(at(day, 9), price=100)
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"


def test_it_hides_another_stations_patient(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    response = book(at(day, 9), patient=str(cast.other_patient.external_id))
    assert response.status_code == 404
    assert not Consultation.objects.exists()


def test_it_hides_another_stations_room(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    foreign = factories.make_room(cast.station2)
    response = book(at(day, 9), station_room=str(foreign.external_id))
    assert response.status_code == 404


def test_it_hides_an_unknown_specialist(hours: SpecialistSchedule, day: date, book: BookFn) -> None:
    response = book(at(day, 9), specialist="00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404


def test_an_outsider_nurse_cannot_book_for_the_station(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    response = book(at(day, 9), user=cast.outsider_nurse)
    assert response.status_code == 404
    assert not Consultation.objects.exists()


def test_a_specialist_cannot_book_as_a_station(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    response = book(at(day, 9), user=cast.specialist)
    assert response.status_code == 404


def test_anonymous_cannot_book(cast: Cast, api, day: date) -> None:  # type: ignore[no-untyped-def]
    response = api(None).post("/api/v1/consultations/", {}, format="json")
    assert response.status_code == 401


def test_nothing_is_half_written_when_a_booking_is_refused(
    hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    book(at(day, 18))
    assert not Consultation.objects.exists()
    assert not ConsultationEvent.objects.exists()
    assert not Reminder.objects.exists()


def test_a_booking_stays_within_its_statement_budget(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    # A booking holds its specialist's, room's and patient's locks for its whole
    # transaction, so every statement in it is a round trip others may queue behind. The
    # budget is today's count, as the benchmark sends it (token, Idempotency-Key): a new
    # query per booking shows up here.
    token = factories.make_api_token(cast.nurse)
    client = APIClient()

    def post(start: datetime, key: str) -> int:
        body = {
            "patient": str(cast.patient.external_id),
            "specialist": str(cast.specialist.external_id),
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
        }
        headers = {"Authorization": f"Token {token}", "Idempotency-Key": key}
        response = client.post("/api/v1/consultations/", body, format="json", headers=headers)
        return response.status_code

    assert post(at(day, 9), "warm-up") == 201
    # token; key; patient; specialist, specialties; room; locks; policy, rules, overrides +
    # time off + holidays, bookings; consult, event, reminders, audit; key's answer (18 with
    # the test's savepoint and release, which stand in for BEGIN and COMMIT). No savepoint
    # of the booking's own inside the key's transaction (`write_transaction`).
    with CaptureQueriesContext(connection) as queries:
        assert post(at(day, 10), "one") == 201
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= 18, "\n".join(statements)
    assert sum(s.startswith(("SAVEPOINT", "RELEASE")) for s in statements) == 2


def test_a_refused_keyed_booking_leaves_nothing_and_no_answer(
    hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    # Without its own savepoint the booking's refusal rolls back the key's whole
    # transaction: no consult, no event, no audit row, no stored answer; the retry asks again.
    assert book(at(day, 9)).status_code == 201
    refused = book(at(day, 9), key="clash")
    assert refused.status_code == 409
    assert refused.json()["code"] == "slot_taken"
    assert not IdempotencyRecord.objects.filter(key="clash").exists()
    assert Consultation.objects.count() == ConsultationEvent.objects.count() == 1
    assert AuditEntry.objects.filter(action="create").count() == 1
    assert book(at(day, 10), key="clash").status_code == 201


def reads_of(consult_id: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_id=consult_id, action="read"))


def test_a_nurse_removed_from_her_station_cannot_replay_her_booking(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    assert book(at(day, 9), key="tap-gone").status_code == 201
    cast.nurse.memberships.update(is_active=False)
    again = book(at(day, 9), key="tap-gone")
    assert again.status_code == 404
    assert again.json()["code"] == "not_found"
    assert "Idempotent-Replay" not in again.headers
    assert cast.patient.full_name not in again.content.decode()
    assert not AuditEntry.objects.filter(action="read").exists()


def test_a_replayed_booking_is_the_stored_answer_audited_as_a_read(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    first = book(at(day, 9), key="tap-read")
    again = book(at(day, 9), key="tap-read")
    assert again.status_code == 201
    assert again.json() == first.json()
    [read] = reads_of(first.json()["id"])
    assert (read.actor, read.object_type) == (cast.nurse, "consultation")
    assert read.patient_id == cast.patient.external_id


def test_a_replayed_booking_answers_as_it_first_did_after_a_cancellation(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    first = book(at(day, 9), key="tap-then-cancel")
    Consultation.objects.filter(external_id=first.json()["id"]).update(status="cancelled")
    again = book(at(day, 9), key="tap-then-cancel")
    assert again.status_code == 201
    assert again.json()["status"] == "booked"
