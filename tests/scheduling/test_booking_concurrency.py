"""On PostgreSQL, many nurses pressing "book" at once never make two overlapping consults.

Each request runs in its own thread with its own database connection, released together
by a barrier; the exclusion constraints decide who wins.
"""

import threading
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from clinics.models import Patient, StationRoom, User
from consults.lifecycle import ACTIVE_STATUSES
from consults.models import Consultation
from consults.scheduling.models import AvailabilityRule, SpecialistSchedule
from tests import factories
from tests.conftest import Cast
from tests.scheduling.conftest import at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 50

OVERLAPS_SQL = """
SELECT count(*) FROM consults_consultation a JOIN consults_consultation b ON a.id < b.id
WHERE a.status = ANY(%(active)s) AND b.status = ANY(%(active)s)
  AND (
    (a.specialist_id = b.specialist_id
     AND tstzrange(a.start, coalesce(a.buffer_end, a."end"))
         && tstzrange(b.start, coalesce(b.buffer_end, b."end")))
    OR (a.station_room_id = b.station_room_id
        AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end"))
    OR (a.patient_id = b.patient_id
        AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end"))
  )
"""


def overlapping_active_bookings() -> int:
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPS_SQL, {"active": [str(s) for s in ACTIVE_STATUSES]})
        return int(cursor.fetchone()[0])


def post_all(user: User, bodies: list[dict[str, Any]]) -> list[tuple[int, str]]:
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, str]] = [(0, "")] * len(bodies)

    def run(i: int) -> None:
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait(timeout=30)
            response = client.post("/api/v1/consultations/", bodies[i], format="json")
            results[i] = (response.status_code, response.json().get("code", ""))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def body(
    patient: Patient, specialist: User, start: datetime, minutes: int, room: StationRoom
) -> dict[str, Any]:
    return {
        "patient": str(patient.external_id),
        "specialist": str(specialist.external_id),
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
        "station_room": str(room.external_id),
    }


def patients_and_rooms(cast: Cast) -> tuple[list[Patient], list[StationRoom]]:
    patients = [factories.make_patient(cast.station) for _ in range(N)]
    rooms = [StationRoom.objects.create(facility=cast.station, name=f"P{i}") for i in range(N)]
    return patients, rooms


def test_fifty_concurrent_bookings_of_one_slot_make_exactly_one(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    patients, rooms = patients_and_rooms(cast)
    bodies = [body(patients[i], cast.specialist, at(day, 9), 30, rooms[i]) for i in range(N)]
    results = post_all(cast.nurse, bodies)
    assert sorted(code for code, _ in results) == [201] + [409] * (N - 1)
    assert {c for s, c in results if s == 409} == {"slot_taken"}
    assert Consultation.objects.filter(status="booked").count() == 1
    assert overlapping_active_bookings() == 0


def test_fifty_concurrent_overlapping_ranges_make_exactly_one(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    for minutes in (15, 20, 60):  # more grids over the same hours: ranges that overlap
        for weekday in range(7):
            AvailabilityRule.objects.create(
                specialist=cast.specialist,
                weekday=weekday,
                start_time=time(8),
                end_time=time(17),
                slot_minutes=minutes,
            )
    # Every range holds 09:20–09:30, so any two overlap.
    ranges = [(at(day, 9), 30), (at(day, 9, 20), 20), (at(day, 9, 15), 15), (at(day, 9), 60)]
    patients, rooms = patients_and_rooms(cast)
    bodies = [
        body(patients[i], cast.specialist, *ranges[i % len(ranges)], rooms[i]) for i in range(N)
    ]
    results = post_all(cast.nurse, bodies)
    assert sorted(code for code, _ in results) == [201] + [409] * (N - 1)
    assert Consultation.objects.filter(status="booked").count() == 1
    assert overlapping_active_bookings() == 0


def test_fifty_concurrent_bookings_of_two_specialists_sharing_one_room_make_exactly_one(
    cast: Cast, hours: SpecialistSchedule, colleague: User, day: date
) -> None:
    patients = [factories.make_patient(cast.station) for _ in range(N)]
    specialists = [cast.specialist, colleague]
    bodies = [body(patients[i], specialists[i % 2], at(day, 9), 30, cast.room) for i in range(N)]
    results = post_all(cast.nurse, bodies)
    assert sorted(code for code, _ in results) == [201] + [409] * (N - 1)
    assert {c for s, c in results if s == 409} <= {"room_busy", "slot_taken"}
    assert Consultation.objects.filter(status="booked").count() == 1
    assert overlapping_active_bookings() == 0


def test_the_database_itself_refuses_an_overlap_written_around_the_service(
    cast: Cast, day: date
) -> None:
    factories.make_consultation(
        patient=cast.patient,
        specialist=cast.specialist,
        hospital=cast.hospital,
        room=cast.room,
        start=at(day, 9),
    )
    other = factories.make_patient(cast.station)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.make_consultation(
            patient=other, specialist=cast.specialist, hospital=cast.hospital, start=at(day, 9, 15)
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # the same room
        factories.make_consultation(
            patient=other,
            specialist=cast.other_specialist,
            hospital=cast.hospital2,
            room=cast.room,
            start=at(day, 9, 10),
        )
    cancelled_ok = factories.make_consultation(
        patient=other,
        specialist=cast.specialist,
        hospital=cast.hospital,
        start=at(day, 9, 15),
        status="cancelled",
    )
    assert cancelled_ok.pk
    assert overlapping_active_bookings() == 0


def test_the_booking_locks_hold_for_ids_past_two_to_the_31() -> None:
    from consults.scheduling.services import lock_resources

    far = 2**40  # ids of a long-lived programme's bigint keys
    specialist, room, patient = User(pk=far), StationRoom(pk=far + 1), Patient(pk=far + 2)
    with transaction.atomic():
        lock_resources(specialist=specialist, room=room, patient=patient)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks "
                "WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
            assert cursor.fetchone()[0] == 3
