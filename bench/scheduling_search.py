"""Earliest-slot search: 300 cardiologists × 8 weeks, over HTTP on a real daphne.

Budget (DESIGN.md): p95 ≤ 100 ms. Two worlds are measured:
  typical  — the first two weeks 80 % booked, later weeks 30 %;
  crowded  — every slot of the first three weeks booked (the answer lies in week four).
F3 (a bare DRF endpoint on the same server) is measured in the same run for scale.
"""

import random
from datetime import time, timedelta

from scheduling_common import (
    analyze,
    bench_database,
    daphne,
    git_revision,
    setup_django,
    summary,
    write_section,
)

SPECIALISTS = 300
WEEKS = 8
RUNS = 200
HOURS = [(time(8), time(11, 30)), (time(13, 30), time(16, 30))]


def seed(first_weeks_full: int) -> tuple[str, list[str]]:
    """Returns the searching nurse's token and the specialists' public ids."""
    from datetime import datetime

    from django.utils import timezone

    from clinics.models import Facility, Membership, Patient, Specialty, StationRoom, User
    from clinics.tokens import api_token_issue
    from consults.models import Consultation
    from consults.scheduling.models import AvailabilityRule, Holiday

    rng = random.Random(7)
    Holiday.objects.all().delete()  # a holiday week would make the numbers depend on the date
    cardio, _ = Specialty.objects.get_or_create(
        code="cardiology", defaults={"name_vi": "Tim mạch", "name_en": "Cardiology"}
    )
    hospitals = [
        Facility.objects.create(code=f"H{i}", name=f"Bệnh viện {i}", kind="central_hospital")
        for i in range(6)
    ]
    station = Facility.objects.create(code="S0", name="Trạm Y tế", kind="commune_station")
    StationRoom.objects.create(facility=station, name="Phòng khám từ xa")
    nurse = User.objects.create_user(username="nurse", password="x")
    Membership.objects.create(user=nurse, facility=station, role="station_staff")
    users, memberships, rules = [], [], []
    for i in range(SPECIALISTS):
        users.append(User(username=f"bs{i:03d}", full_name=f"BS {i:03d}"))
    User.objects.bulk_create(users)
    users = list(User.objects.filter(username__startswith="bs").order_by("username"))
    for i, user in enumerate(users):
        memberships.append(
            Membership(
                user=user, facility=hospitals[i % 6], role="specialist", licence_number=str(i)
            )
        )
        for weekday in range(5):
            for start, end in HOURS:
                rules.append(
                    AvailabilityRule(
                        specialist=user, weekday=weekday, start_time=start, end_time=end
                    )
                )
    Membership.objects.bulk_create(memberships)
    for m in Membership.objects.filter(role="specialist"):
        m.specialties.add(cardio)
    AvailabilityRule.objects.bulk_create(rules)
    # Each specialist's consults come from their own station, room and patient.
    stations = Facility.objects.bulk_create(
        Facility(code=f"T{i}", name=f"Trạm {i}", kind="commune_station") for i in range(SPECIALISTS)
    )
    rooms = StationRoom.objects.bulk_create(StationRoom(facility=s, name="P") for s in stations)
    patients = Patient.objects.bulk_create(
        Patient(station=s, full_name="BN", date_of_birth="1970-01-01", sex="female")
        for s in stations
    )
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    rows = []
    for i, user in enumerate(users):
        for d in range(WEEKS * 7):
            day = today + timedelta(days=d)
            if day.weekday() >= 5:
                continue
            week = d // 7
            share = 1.0 if week < first_weeks_full else (0.8 if week < 2 else 0.3)
            for start, end in HOURS:
                t = datetime.combine(day, start, tzinfo=tz)
                while t + timedelta(minutes=30) <= datetime.combine(day, end, tzinfo=tz):
                    if rng.random() < share:
                        rows.append(
                            Consultation(
                                patient=patients[i], station=stations[i], station_room=rooms[i],
                                specialist=user, hospital=hospitals[i % 6], specialty=cardio,
                                start=t, end=t + timedelta(minutes=30), created_by=nurse,
                            )
                        )  # fmt: skip
                    t += timedelta(minutes=30)
    Consultation.objects.bulk_create(rows, batch_size=5000)
    analyze()
    print(f"seeded {len(users)} specialists, {len(rows)} booked consults")
    return api_token_issue(user=nurse)[1], [str(u.external_id) for u in users]


def measure(world: str, first_weeks_full: int, runs: int) -> list[str]:
    with bench_database(f"search_{world}"):
        token, specialist_ids = seed(first_weeks_full)
        with daphne() as client:
            auth = {"Authorization": f"Token {token}"}
            for _ in range(20):  # warm up (imports, connections)
                client.call("GET", "/api/v1/slots/?specialty=cardiology", headers=auth)
                client.call("GET", "/bench/floor/")
            search, one, floor = [], [], []
            first = ""
            for i in range(runs):
                status, body, ms = client.call(
                    "GET", "/api/v1/slots/?specialty=cardiology", headers=auth
                )
                assert status == 200, body
                assert body["count"] == 20, body
                first = body["results"][0]["start"]
                search.append(ms)
                sid = specialist_ids[i % len(specialist_ids)]
                status, body, ms = client.call(
                    "GET", f"/api/v1/slots/?specialist={sid}", headers=auth
                )
                assert status == 200, body
                one.append(ms)
                floor.append(client.call("GET", "/bench/floor/")[2])
    print(f"{world}: {summary(search)}", flush=True)
    return [
        f"- **{world}** (earliest slot found: {first[:16]}):",
        f"  - specialty search, 300 specialists × 8 weeks: {summary(search)}",
        f"  - one specialist: {summary(one)}",
        f"  - F3 bare DRF GET, same server: {summary(floor)}",
    ]


def main() -> None:
    setup_django()
    lines = [f"Commit {git_revision()}. Budget: specialty search p95 ≤ 100 ms.", ""]
    lines += measure("typical", first_weeks_full=0, runs=RUNS)
    print("\n".join(lines), flush=True)
    lines += measure("crowded", first_weeks_full=3, runs=30)
    write_section("scheduling:search", "Scheduling — earliest-slot search", lines)


if __name__ == "__main__":
    main()
