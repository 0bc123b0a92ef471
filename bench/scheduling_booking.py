"""Booking POST /api/v1/consultations/ over HTTP on a real daphne, against F3.

Budget (DESIGN.md): p50 ≤ 3 × F3 (a bare DRF endpoint on the same server); 50 concurrent
POSTs on one slot: one 201, 49 × 409, zero overlapping active bookings.
"""

import threading
from datetime import time, timedelta

from scheduling_common import (
    Client,
    bench_database,
    daphne,
    git_revision,
    setup_django,
    summary,
    write_section,
)

BOOKINGS = 300
CONCURRENT = 50


def seed() -> tuple[str, dict[str, str], list[tuple[str, str]]]:
    """The nurse's token, the booking body's ids, and free slots (start, end) to book."""
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from clinics.models import Facility, Membership, Patient, Specialty, StationRoom, User
    from consults.scheduling import selectors
    from consults.scheduling.models import AvailabilityRule, Holiday, SpecialistSchedule

    Holiday.objects.all().delete()
    cardio, _ = Specialty.objects.get_or_create(
        code="cardiology", defaults={"name_vi": "Tim mạch", "name_en": "Cardiology"}
    )
    hospital = Facility.objects.create(code="BM", name="Bạch Mai", kind="central_hospital")
    station = Facility.objects.create(code="TL", name="Tà Lùng", kind="commune_station")
    StationRoom.objects.create(facility=station, name="Phòng khám từ xa")
    nurse = User.objects.create_user(username="nurse", password="x")
    Membership.objects.create(user=nurse, facility=station, role="station_staff")
    doctor = User.objects.create_user(username="bs", password="x", full_name="BS")
    Membership.objects.create(user=doctor, facility=hospital, role="specialist").specialties.add(
        cardio
    )
    SpecialistSchedule.objects.create(specialist=doctor, buffer_minutes=0)
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(specialist=doctor, weekday=d, start_time=time(0), end_time=time(23, 30))
        for d in range(7)
    )
    patient = Patient.objects.create(
        station=station, full_name="Nông Thị Hoa", date_of_birth="1968-03-14", sex="female"
    )
    members = selectors.specialists_for_search(specialty="cardiology")
    now = timezone.now()
    found = selectors.free_slots_search(
        members, room=None, start=now, end=now + timedelta(weeks=7), limit=BOOKINGS + 1
    )
    slots = [(s.start.isoformat(), s.end.isoformat()) for s, _m in found]
    ids = {"patient": str(patient.external_id), "specialist": str(doctor.external_id)}
    return Token.objects.create(user=nurse).key, ids, slots


def overlapping_active() -> int:
    from django.db import connection

    if connection.vendor != "postgresql":
        return -1
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM consults_consultation a JOIN consults_consultation b
               ON a.id < b.id AND a.specialist_id = b.specialist_id
               WHERE a.status = 'booked' AND b.status = 'booked'
               AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end")"""
        )
        return int(cursor.fetchone()[0])


def main() -> None:
    setup_django()
    with bench_database("booking"):
        token, ids, slots = seed()
        with daphne() as client:
            auth = {"Authorization": f"Token {token}"}
            warm = {"reason": "warm-up", "mode": "video"}
            for _ in range(20):
                client.call("POST", "/bench/floor/", warm)
            book, floor = [], []
            for i, (start, end) in enumerate(slots[:BOOKINGS]):
                body = ids | {"start": start, "end": end, "reason": "Đau ngực khi gắng sức"}
                headers = auth | {"Idempotency-Key": f"bench-{i}"}
                status, answer, ms = client.call("POST", "/api/v1/consultations/", body, headers)
                assert status == 201, answer
                book.append(ms)
                floor.append(client.call("POST", "/bench/floor/", body)[2])
            # 50 nurses at once on the last free slot, each on its own connection.
            start, end = slots[BOOKINGS]
            port = client.conn.port
            codes: list[int] = []
            barrier = threading.Barrier(CONCURRENT)

            def one(i: int) -> None:
                c = Client(port)
                body = ids | {"start": start, "end": end}
                barrier.wait()
                codes.append(c.call("POST", "/api/v1/consultations/", body, auth)[0])

            threads = [threading.Thread(target=one, args=(i,)) for i in range(CONCURRENT)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        overlaps = overlapping_active()
    ratio = sorted(book)[len(book) // 2] / sorted(floor)[len(floor) // 2]
    lines = [
        f"Commit {git_revision()}. Budget: booking p50 ≤ 3 × F3.",
        "",
        f"- booking POST (Token auth, Idempotency-Key, sequential, keep-alive): {summary(book)}",
        f"- F3 bare DRF POST, same server: {summary(floor)}",
        f"- ratio p50 booking / p50 F3: **{ratio:.1f}×**",
        f"- {CONCURRENT} concurrent POSTs on one slot: {codes.count(201)} × 201, "
        f"{codes.count(409)} × 409, other: {len(codes) - codes.count(201) - codes.count(409)}; "
        f"overlapping active bookings found by SQL afterwards: {overlaps}",
    ]
    write_section("scheduling:booking", "Scheduling — booking", lines)


if __name__ == "__main__":
    main()
