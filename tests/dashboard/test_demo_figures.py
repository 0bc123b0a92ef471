"""The figures for the seeded demo data equal a plain Python count over the rows."""

import io
from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from consults.dashboard.selectors import dashboard_rows, months_between
from consults.models import Consultation
from consults.scheduling.models import ConsultRequest

pytestmark = pytest.mark.django_db


def test_the_dashboard_matches_the_demo_rows_counted_one_by_one() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    consults = list(Consultation.objects.select_related("station").exclude(start=None))
    assert consults, "seed_demo books consults"

    def month(c: Consultation) -> date:
        assert c.start is not None
        return c.start.astimezone(ZoneInfo(c.station.time_zone)).date().replace(day=1)

    months = sorted({month(c) for c in consults})
    first, last = months[0], months[-1]
    booked = Counter((c.station.code, month(c)) for c in consults)
    completed = Counter((c.station.code, month(c)) for c in consults if c.status == "completed")
    filed = Counter(
        (
            r.consultation.station.code,
            r.created_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date().replace(day=1),
        )
        for r in ConsultRequest.objects.select_related("consultation__station")
    )
    in_range = set(months_between(first, last))

    rows = dashboard_rows(first=first, last=last, group="station")

    assert {(r.facility.code, r.month): r.booked for r in rows if r.booked} == dict(booked)
    assert {(r.facility.code, r.month): r.completed for r in rows if r.completed} == dict(completed)
    assert {(r.facility.code, r.month): r.requested for r in rows if r.requested} == {
        k: v for k, v in filed.items() if k[1] in in_range
    }
