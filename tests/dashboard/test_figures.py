"""The figures on the crafted data set (conftest.march), worked out by hand."""

from datetime import date
from typing import Any

import pytest

from consults.dashboard.access import WHOLE_PROGRAMME
from consults.dashboard.selectors import dashboard_rows
from tests.conftest import Cast
from tests.dashboard.conftest import local

pytestmark = pytest.mark.django_db


def rows_by(group: str, first: date = date(2026, 2, 1), **kw: Any) -> dict[tuple[str, str], Any]:
    rows = dashboard_rows(
        first=first, last=date(2026, 3, 1), group=group, scope=WHOLE_PROGRAMME, **kw
    )
    return {(r.facility.code, f"{r.month:%Y-%m}"): r for r in rows}


def test_it_counts_each_outcome_of_the_month(march: Cast) -> None:
    row = rows_by("station")[("TLG", "2026-03")]
    assert (row.booked, row.completed, row.cancelled, row.failed) == (5, 1, 1, 1)
    assert (row.no_show_station, row.no_show_specialist) == (1, 1)
    assert row.requested == 5


def test_the_wait_is_the_median_from_request_or_booking_to_start_without_cancelled(
    march: Cast,
) -> None:
    assert rows_by("station")[("TLG", "2026-03")].median_wait_hours == 18.0  # 48, 24, 12, 3


def test_call_quality_is_the_median_over_consults_of_each_consults_median(march: Cast) -> None:
    row = rows_by("station")[("TLG", "2026-03")]
    assert row.quality_consults == 2
    assert row.median_rtt_ms == 175.0  # consults: 250 and 100
    assert row.median_loss_pct == 6.25  # consults: 2.5 and 10
    assert row.audio_only_consults == 1
    assert row.audio_only_share == 0.5


def test_urgent_requests_count_when_answered_or_overdue_not_when_withdrawn_early(
    march: Cast,
) -> None:
    row = rows_by("station")[("TLG", "2026-03")]
    assert row.urgent_requests == 3  # in time, declined after 3 h, never answered
    assert row.urgent_within_target == 1
    assert row.urgent_within_target_share == pytest.approx(1 / 3, abs=1e-4)


def test_an_open_urgent_request_is_not_counted_before_its_deadline(march: Cast) -> None:
    row = rows_by("station", now=local(7, 9))
    assert row[("TLG", "2026-03")].urgent_requests == 2


def test_months_are_cut_at_local_midnight(march: Cast) -> None:
    rows = rows_by("station")
    # Both consults start on 28 February in UTC; in Vietnam one is on 1 March.
    assert rows[("PHA", "2026-02")].booked == 1
    assert rows[("PHA", "2026-03")].booked == 1
    assert rows[("PHA", "2026-03")].median_wait_hours == pytest.approx(8 * 24 + 15.5, abs=0.1)


def test_the_range_leaves_out_other_months(march: Cast) -> None:
    rows = rows_by("station", first=date(2026, 3, 1))
    assert ("PHA", "2026-02") not in rows
    assert ("PHA", "2026-03") in rows


def test_per_hospital_rows_add_up_the_same_consults(march: Cast) -> None:
    rows = rows_by("hospital")
    bach_mai = rows[("BM", "2026-03")]
    assert (bach_mai.booked, bach_mai.requested, bach_mai.urgent_requests) == (5, 5, 3)
    assert bach_mai.median_rtt_ms == 175.0
    assert rows[("CR", "2026-02")].booked == 1
    assert rows[("CR", "2026-03")].booked == 1
    assert {code for code, _month in rows} == {"BM", "CR"}


def test_it_reads_in_a_bounded_number_of_queries(
    march: Cast, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(7):
        dashboard_rows(
            first=date(2026, 1, 1), last=date(2026, 12, 1), group="station", scope=WHOLE_PROGRAMME
        )
