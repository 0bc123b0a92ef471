"""seed_demo gives demo specialists weekly hours, books a few consults (some today) and
writes a plausible past: two months of consults and requests with every outcome."""

import io
from collections import Counter
from datetime import date, timedelta
from itertools import combinations, pairwise

import pytest
from django.core.management import call_command
from django.utils import timezone

from consults.demo.history import workday_before
from consults.demo.stories import BOOKINGS, REQUESTS
from consults.lifecycle import can_transition
from consults.models import Consultation, ConsultationEvent
from consults.notes.models import NoteRevision, Report
from consults.room.models import CallQualityReport
from consults.scheduling.models import AvailabilityRule, ConsultRequest

pytestmark = pytest.mark.django_db
S = Consultation.Status

SEEDED = (
    Consultation,
    ConsultationEvent,
    ConsultRequest,
    AvailabilityRule,
    NoteRevision,
    Report,
    CallQualityReport,
)


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def past() -> list[Consultation]:
    """The history's consults (and requests), by their stories' reasons."""
    reasons = {b.reason for b in BOOKINGS} | {r.reason for r in REQUESTS}
    return list(
        Consultation.objects.filter(reason__in=reasons)
        .select_related("patient", "request")
        .prefetch_related("events", "quality_reports")
    )


def test_seed_demo_makes_a_living_agenda_and_is_idempotent() -> None:
    assert "Scheduling:" in seed()
    assert AvailabilityRule.objects.filter(specialist__username="specialist").count() == 12
    consults = Consultation.objects.filter(specialist__username="specialist", status="booked")
    assert consults.count() == 3  # the history's consults all ended one way or another
    today = timezone.localdate()
    assert any(timezone.localtime(c.start).date() == today for c in consults if c.start) or (
        timezone.localtime().hour >= 22  # the "next half hour" of a late run is tomorrow
    )
    first = [m.objects.count() for m in SEEDED]
    assert "History: 0 past consults booked and 0 requests filed" in seed()
    assert [m.objects.count() for m in SEEDED] == first


def test_the_history_has_every_outcome_over_the_last_two_months() -> None:
    assert "History: 15 past consults booked and 10 requests filed" in seed()
    consults = past()
    now = timezone.now()
    started = [c for c in consults if c.start is not None]
    assert all(now - timedelta(days=62) < c.start < now for c in started if c.start)
    outcomes = Counter((c.status, c.no_show_party) for c in started)
    assert outcomes[(S.COMPLETED, "")] >= 10
    assert outcomes[(S.NO_SHOW, "station")] >= 1
    assert outcomes[(S.NO_SHOW, "specialist")] >= 1
    assert outcomes[(S.FAILED, "")] >= 1
    assert outcomes[(S.CANCELLED, "")] >= 1
    assert {c.start.month for c in started if c.start} != {now.month}  # more than one month
    requests = Counter(
        (c.request.state, c.status, c.urgency) for c in consults if hasattr(c, "request")
    )
    assert requests[("accepted", S.COMPLETED, "urgent")] >= 2
    assert requests[("declined", S.CANCELLED, "urgent")] >= 2
    assert requests[("waiting", S.CANCELLED, "urgent")] == 1  # withdrawn by the station
    assert requests[("needs_info", S.REQUESTED, "urgent")] == 1  # still unanswered
    assert requests[("accepted", S.COMPLETED, "routine")] >= 1


def test_each_past_consult_went_through_the_lifecycle_in_order() -> None:
    seed()
    now = timezone.now()
    for consult in past():
        events = sorted(consult.events.all(), key=lambda e: (e.at, e.id))
        assert events[0].from_status == ""
        assert events[0].at == consult.created_at
        for before, after in pairwise(events):
            assert after.from_status == before.to_status, consult.reason
            assert can_transition(after.from_status, after.to_status), consult.reason
        assert events[-1].to_status == consult.status
        assert all(consult.created_at <= e.at < now for e in events)
        if consult.start is not None:
            assert consult.created_at <= consult.start
        if consult.status in (S.COMPLETED, S.FAILED):
            reports = consult.quality_reports.all()
            assert reports, consult.reason
            assert all(consult.start <= r.at <= events[-1].at for r in reports if consult.start)


def test_completed_consults_have_notes_and_a_report_signed_after_the_call() -> None:
    seed()
    completed = [c for c in past() if c.status == S.COMPLETED]
    assert completed
    for consult in completed:
        report = Report.objects.get(consultation=consult)
        ended = consult.events.get(to_status=S.COMPLETED).at
        assert report.signed_at > ended
        assert report.snapshot["signed_at"] == report.signed_at.isoformat()
        sections = {s["section"]: s for s in report.snapshot["sections"]}
        assert sections["history"]["revision"] == sections["assessment"]["revision"] == 1
        assert sections["assessment"]["content"]["icd10"]
        revisions = NoteRevision.objects.filter(section__consultation=consult)
        assert all(r.at < report.signed_at for r in revisions)


def test_no_two_past_consults_share_a_room_a_specialist_or_a_patient() -> None:
    seed()
    held = [c for c in past() if c.start is not None and c.status != S.CANCELLED]
    for a, b in combinations(held, 2):
        if a.start < b.end and b.start < a.end:
            assert a.station_room_id != b.station_room_id, (a.reason, b.reason)
            assert a.specialist_id != b.specialist_id, (a.reason, b.reason)
            assert a.patient_id != b.patient_id, (a.reason, b.reason)


@pytest.mark.parametrize(
    ("today", "n", "expected"),
    [
        (date(2026, 11, 30), 1, date(2026, 11, 28)),  # Monday → Saturday (no Sunday hours)
        (date(2026, 11, 29), 1, date(2026, 11, 28)),  # a Sunday run
        (date(2026, 11, 28), 6, date(2026, 11, 21)),  # a week of six workdays
    ],
)
def test_history_days_are_counted_in_workdays(today: date, n: int, expected: date) -> None:
    assert workday_before(today, n) == expected
