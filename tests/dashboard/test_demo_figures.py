"""The dashboard's figures for the seeded demo data, worked out again from the rows.

seed_demo writes two months of history (consults/demo/history.py). Here every
figure of docs/dashboard.md is computed in plain Python from the rows themselves (consults,
their lifecycle events, requests, call-quality reports) and compared with what the API and
the CSV return, per station and per hospital. Every figure must be non-trivial in some row,
so that two empty tables cannot agree.
"""

import csv
import io
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from clinics.models import Facility, User
from consults.models import Consultation, ConsultationEvent
from consults.scheduling.models import ConsultRequest

pytestmark = pytest.mark.django_db

S = Consultation.Status
TARGET = timedelta(hours=2)  # docs/dashboard.md: urgent requests answered within 2 hours
Key = tuple[str, str]  # (facility code, "YYYY-MM" in the facility's zone)

# The English CSV header, column by column (docs/dashboard.md lists the same figures).
CSV_COLUMNS = {
    "Requests filed": "requested",
    "Consults booked": "booked",
    "Completed": "completed",
    "Cancelled": "cancelled",
    "No-show (station)": "no_show_station",
    "No-show (specialist)": "no_show_specialist",
    "Technical failures": "failed",
    "Median wait (hours)": "median_wait_hours",
    "Consults with quality reports": "quality_consults",
    "Median RTT (ms)": "median_rtt_ms",
    "Median packet loss (%)": "median_loss_pct",
    "Audio-only share": "audio_only_share",
    "Urgent requests": "urgent_requests",
    "Urgent answered in time": "urgent_within_target",
    "Urgent answered in time (share)": "urgent_within_target_share",
}
FIGURES = list(CSV_COLUMNS.values())


def month(at: datetime, facility: Facility) -> str:
    return at.astimezone(ZoneInfo(facility.time_zone)).strftime("%Y-%m")


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class Tally:
    """One facility-month, counted from the rows."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = defaultdict(int)
        self.waits: list[float] = []
        self.calls: list[tuple[float, float, bool]] = []  # per consult: rtt, loss, audio-only

    def figures(self) -> dict[str, Any]:
        wait = median(self.waits)
        rtt = median([c[0] for c in self.calls])
        loss = median([c[1] for c in self.calls])
        audio_only = sum(c[2] for c in self.calls)
        return {key: self.counts[key] for key in COUNTED} | {
            "median_wait_hours": None if wait is None else round(wait, 1),
            "quality_consults": len(self.calls),
            "median_rtt_ms": None if rtt is None else round(rtt, 1),
            "median_loss_pct": None if loss is None else round(loss, 2),
            "audio_only_share": share(audio_only, len(self.calls)),
            "urgent_within_target_share": share(
                self.counts["urgent_within_target"], self.counts["urgent_requests"]
            ),
        }


COUNTED = {
    "requested",
    "booked",
    "completed",
    "cancelled",
    "no_show_station",
    "no_show_specialist",
    "failed",
    "urgent_requests",
    "urgent_within_target",
}


def count_consults(group: str, table: dict[Key, Tally]) -> None:
    consults = (
        Consultation.objects.exclude(start=None)
        .select_related("station", "hospital")
        .prefetch_related("quality_reports")
    )
    for consult in consults:
        facility = getattr(consult, group)
        assert consult.start is not None
        if facility is None:
            continue
        tally = table[(facility.code, month(consult.start, facility))]
        tally.counts["booked"] += 1
        if consult.status == S.NO_SHOW:
            tally.counts[f"no_show_{consult.no_show_party}"] += 1
        elif consult.status in (S.COMPLETED, S.CANCELLED, S.FAILED):
            tally.counts[consult.status] += 1
        if consult.status != S.CANCELLED:
            tally.waits.append(max(0.0, (consult.start - consult.created_at) / timedelta(hours=1)))
        reports = list(consult.quality_reports.all())
        if reports:
            tally.calls.append(
                (
                    statistics.median(r.rtt_ms for r in reports if r.rtt_ms is not None),
                    statistics.median(r.loss_pct for r in reports if r.loss_pct is not None),
                    any(r.audio_only_s > 0 or not r.video for r in reports),
                )
            )


def count_requests(group: str, table: dict[Key, Tally], now: datetime) -> None:
    requests = ConsultRequest.objects.select_related(
        "consultation__station", "consultation__hospital"
    )
    for req in requests:
        facility = getattr(req.consultation, group)
        tally = table[(facility.code, month(req.created_at, facility))]
        tally.counts["requested"] += 1
        if req.consultation.urgency != Consultation.Urgency.URGENT:
            continue
        left = (
            ConsultationEvent.objects.filter(consultation=req.consultation, from_status=S.REQUESTED)
            .order_by("at", "id")
            .first()
        )
        answered = req.state in (ConsultRequest.State.ACCEPTED, ConsultRequest.State.DECLINED)
        deadline = req.created_at + TARGET
        if left is None and req.created_at > now - TARGET:
            continue  # not due yet
        if not answered and left is not None and left.at <= deadline:
            continue  # withdrawn by the station before anyone could answer
        tally.counts["urgent_requests"] += 1
        if answered and left is not None and left.at <= deadline:
            tally.counts["urgent_within_target"] += 1


def expected_rows(group: str) -> dict[Key, dict[str, Any]]:
    table: dict[Key, Tally] = defaultdict(Tally)
    count_consults(group, table)
    count_requests(group, table, timezone.now())
    return {key: tally.figures() for key, tally in table.items()}


def months_span(rows: dict[Key, dict[str, Any]]) -> dict[str, str]:
    months = sorted(m for _code, m in rows)
    return {"from": months[0], "to": months[-1]}


def api_rows(client: APIClient, params: dict[str, str]) -> dict[Key, dict[str, Any]]:
    response = client.get("/api/v1/dashboard/", params)
    assert response.status_code == 200, response.content
    return {
        (r["facility"]["code"], r["month"]): {k: r[k] for k in FIGURES}
        for r in response.json()["rows"]
    }


def csv_rows(client: APIClient, params: dict[str, str]) -> dict[Key, dict[str, str]]:
    response = client.get("/api/v1/dashboard.csv", params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    header, *lines = csv.reader(io.StringIO(response.content.decode("utf-8").lstrip("\ufeff")))
    assert header[:3] == ["Month", "Facility code", "Facility"]
    out = {}
    for line in lines:
        cells = dict(zip(header, line, strict=True))
        mm, yyyy = cells["Month"].split("/")
        out[(cells["Facility code"], f"{yyyy}-{mm}")] = {
            key: cells[label] for label, key in CSV_COLUMNS.items()
        }
    return out


def as_csv(value: Any) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize("group", ["station", "hospital"])
def test_every_figure_of_the_demo_matches_the_rows_counted_one_by_one(group: str) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    expected = expected_rows(group)

    # Nothing trivial: several facilities and months, and every figure non-zero somewhere.
    assert len({code for code, _m in expected}) >= 2
    assert len({m for _code, m in expected}) >= 2
    empty = [key for key in FIGURES if not any(row[key] for row in expected.values())]
    assert empty == [], f"figures the demo history leaves empty: {empty}"

    client = APIClient()
    client.force_authenticate(User.objects.get(username="admin"))
    params = {**months_span(expected), "group": group}
    assert api_rows(client, params) == expected
    assert csv_rows(client, params) == {
        key: {k: as_csv(v) for k, v in row.items()} for key, row in expected.items()
    }
