"""Booking POST /api/v1/consultations/ over HTTP on a real daphne, against F3w.

Budget (DESIGN.md): p50 ≤ 2 × F3w (a DRF POST on the same server and pool that, in one
transaction, takes an advisory lock, inserts one row and stores an idempotency answer:
bench/urls.py); with 8 clients at once, throughput ≥ 50 % of F3w's and p99 ≤ 3 × F3w's;
50 concurrent POSTs on one slot: one 201, 49 × 409, zero overlapping active bookings.
F3 (a bare DRF endpoint, no database) is measured too, as the machine's state.

Three stages: sequential bookings on one keep-alive connection, each followed by one F3w
and one F3 call (the budget's p50); the booking API under concurrent load, each client a
different station booking a different specialist, so nothing but the server itself makes
them queue (throughput and p99, with F3w and F3 under the same load); 50 nurses at once on
one slot.
"""

import threading
import time as clock
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from scheduling_common import (
    Client,
    analyze,
    bench_database,
    daphne,
    git_revision,
    percentile,
    setup_django,
    summary,
    write_section,
)

BOOKINGS = 300
CONCURRENT = 50
LOAD_CLIENTS = 8
LOAD_EACH = 40


@dataclass
class Desk:
    """One station nurse booking one specialist: her token, the body's ids, free slots."""

    token: str
    ids: dict[str, str]
    slots: list[tuple[str, str]]

    def booking(self, i: int, key: str) -> tuple[dict[str, Any], dict[str, str]]:
        start, end = self.slots[i]
        body = self.ids | {"start": start, "end": end, "reason": "Đau ngực khi gắng sức"}
        return body, {"Authorization": f"Token {self.token}", "Idempotency-Key": key}


def seed(desks: int, slots: int) -> list[Desk]:
    """`desks` stations (nurse, room, patient), each with its own cardiologist."""
    from django.utils import timezone

    from clinics.models import Facility, Membership, Patient, Specialty, StationRoom, User
    from clinics.tokens import api_token_issue
    from consults.scheduling import selectors
    from consults.scheduling.models import AvailabilityRule, Holiday, SpecialistSchedule

    Holiday.objects.all().delete()
    cardio, _ = Specialty.objects.get_or_create(
        code="cardiology", defaults={"name_vi": "Tim mạch", "name_en": "Cardiology"}
    )
    hospital = Facility.objects.create(code="BM", name="Bạch Mai", kind="central_hospital")
    now = timezone.now()
    out = []
    for i in range(desks):
        station = Facility.objects.create(
            code=f"TL{i}", name=f"Tà Lùng {i}", kind="commune_station"
        )
        StationRoom.objects.create(facility=station, name="Phòng khám từ xa")
        nurse = User.objects.create_user(username=f"nurse{i}", password="x")
        Membership.objects.create(user=nurse, facility=station, role="station_staff")
        doctor = User.objects.create_user(username=f"bs{i}", password="x", full_name=f"BS {i}")
        Membership.objects.create(
            user=doctor, facility=hospital, role="specialist"
        ).specialties.add(cardio)
        SpecialistSchedule.objects.create(specialist=doctor, buffer_minutes=0)
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(
                specialist=doctor, weekday=d, start_time=time(0), end_time=time(23, 30)
            )
            for d in range(7)
        )
        patient = Patient.objects.create(
            station=station, full_name="Nông Thị Hoa", date_of_birth="1968-03-14", sex="female"
        )
        members = selectors.specialists_for_search(specialist=str(doctor.external_id))
        found = selectors.free_slots_search(
            members, room=None, start=now, end=now + timedelta(weeks=7), limit=slots
        )
        out.append(
            Desk(
                token=api_token_issue(user=nurse)[1],
                ids={"patient": str(patient.external_id), "specialist": str(doctor.external_id)},
                slots=[(s.start.isoformat(), s.end.isoformat()) for s, _m in found],
            )
        )
    return out


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


Job = tuple[str, str, Any, dict[str, str]]


def run_together(port: int, jobs: list[list[Job]]) -> tuple[list[int], list[float], float]:
    """One thread and keep-alive connection per job list, released at once; returns the
    statuses, the latencies (ms) and the wall time (s) from release to the last answer."""
    statuses: list[int] = []
    latencies: list[float] = []
    barrier = threading.Barrier(len(jobs) + 1)

    def client(mine: list[Job]) -> None:
        c = Client(port)
        barrier.wait()
        for method, path, body, headers in mine:
            status, _answer, ms = c.call(method, path, body, headers)
            statuses.append(status)
            latencies.append(ms)

    threads = [threading.Thread(target=client, args=(mine,)) for mine in jobs]
    for t in threads:
        t.start()
    barrier.wait()
    started = clock.perf_counter()
    for t in threads:
        t.join()
    return statuses, latencies, clock.perf_counter() - started


def load_summary(latencies: list[float], seconds: float) -> str:
    rate = len(latencies) / seconds
    return (
        f"{rate:.0f} req/s, p50 {percentile(latencies, 50):.1f} ms, "
        f"p99 {percentile(latencies, 99):.1f} ms (n={len(latencies)})"
    )


def floor_write_path() -> str:
    """F3w's URL: its idempotency answers belong to the first nurse."""
    from clinics.models import User

    return f"/bench/floor-write/?user={User.objects.get(username='nurse0').pk}"


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    setup_django()
    from bench.urls import floor_table_create

    with bench_database("booking"):
        desks = seed(1 + LOAD_CLIENTS, max(BOOKINGS + 1, LOAD_EACH))
        floor_table_create()
        analyze()
        first = desks[0]
        write_path = floor_write_path()
        with daphne() as client:
            port = client.conn.port
            warm = {"reason": "warm-up", "mode": "video"}
            for i in range(20):
                client.call("POST", "/bench/floor/", warm)
                client.call("POST", write_path, warm, {"Idempotency-Key": f"warm-{i}"})
            book, floor, floor_w = [], [], []
            for i in range(BOOKINGS):
                body, headers = first.booking(i, f"bench-{i}")
                status, answer, ms = client.call("POST", "/api/v1/consultations/", body, headers)
                assert status == 201, answer
                book.append(ms)
                status, answer, ms = client.call(
                    "POST", write_path, body, {"Idempotency-Key": f"seq-{i}"}
                )
                assert status == 201, answer
                floor_w.append(ms)
                floor.append(client.call("POST", "/bench/floor/", body)[2])

            load_jobs = [
                [
                    ("POST", "/api/v1/consultations/", *d.booking(i, f"load-{i}"))
                    for i in range(LOAD_EACH)
                ]
                for d in desks[1:]
            ]
            floor_jobs = [
                [("POST", "/bench/floor/", b, {}) for _m, _p, b, _h in j] for j in load_jobs
            ]
            write_jobs = [
                [
                    ("POST", write_path, b, {"Idempotency-Key": f"load-{n}-{i}"})
                    for i, (_m, _p, b, _h) in enumerate(j)
                ]
                for n, j in enumerate(load_jobs)
            ]
            floor_codes, floor_ms, floor_s = run_together(port, floor_jobs)
            write_codes, write_ms, write_s = run_together(port, write_jobs)
            load_codes, load_ms, load_s = run_together(port, load_jobs)
            assert set(floor_codes) == {201}, set(floor_codes)
            assert set(write_codes) == {201}, set(write_codes)
            assert set(load_codes) == {201}, set(load_codes)

            # 50 nurses at once on the next free slot, each on its own connection.
            body, headers = first.booking(BOOKINGS, "")
            del headers["Idempotency-Key"]
            codes, _ms, _s = run_together(
                port, [[("POST", "/api/v1/consultations/", body, headers)]] * CONCURRENT
            )
        overlaps = overlapping_active()
    ratio = percentile(book, 50) / percentile(floor_w, 50)
    share = (len(load_ms) / load_s) / (len(write_ms) / write_s)
    p99_ratio = percentile(load_ms, 99) / percentile(write_ms, 99)
    lines = [
        f"Commit {git_revision()}. Budgets: booking p50 ≤ 2 × F3w; with {LOAD_CLIENTS} clients, "
        "throughput ≥ 50 % of F3w's and p99 ≤ 3 × F3w's.",
        "",
        f"- booking POST (Token auth, Idempotency-Key, sequential, keep-alive): {summary(book)}",
        f"- F3w DRF POST (advisory lock + one insert + idempotency answer), same server and "
        f"pool: {summary(floor_w)}",
        f"- F3 bare DRF POST, no database: {summary(floor)}",
        f"- ratio p50 booking / p50 F3w: **{ratio:.1f}×** ({verdict(ratio <= 2)})",
        f"- under load, {LOAD_CLIENTS} clients at once (keep-alive, each a different station "
        f"and specialist), booking POST: {load_summary(load_ms, load_s)}",
        f"- F3w under the same load: {load_summary(write_ms, write_s)}",
        f"- F3 under the same load: {load_summary(floor_ms, floor_s)}",
        f"- under load, booking throughput / F3w's: **{share:.0%}** ({verdict(share >= 0.5)}); "
        f"p99 booking / p99 F3w: **{p99_ratio:.1f}×** ({verdict(p99_ratio <= 3)})",
        f"- {CONCURRENT} concurrent POSTs on one slot: {codes.count(201)} × 201, "
        f"{codes.count(409)} × 409, other: {len(codes) - codes.count(201) - codes.count(409)}; "
        f"overlapping active bookings found by SQL afterwards: {overlaps}",
    ]
    write_section("scheduling:booking", "Scheduling — booking", lines)


if __name__ == "__main__":
    main()
