"""Rows and scope as JSON-ready values, rows as CSV (UTF-8 with a BOM, so Excel reads
Vietnamese)."""

import csv
import io
from typing import Any

from django.utils.translation import gettext_lazy as _

from consults.dashboard.access import DashboardScope
from consults.dashboard.selectors import Row

# (key, column label): the JSON keys, the CSV columns and the page table share this order.
FIGURES: list[tuple[str, Any]] = [
    ("requested", _("Requests filed")),
    ("booked", _("Consults booked")),
    ("completed", _("Completed")),
    ("cancelled", _("Cancelled")),
    ("no_show_station", _("No-show (station)")),
    ("no_show_specialist", _("No-show (specialist)")),
    ("failed", _("Technical failures")),
    ("median_wait_hours", _("Median wait (hours)")),
    ("quality_consults", _("Consults with quality reports")),
    ("median_rtt_ms", _("Median RTT (ms)")),
    ("median_loss_pct", _("Median packet loss (%)")),
    ("audio_only_share", _("Audio-only share")),
    ("urgent_requests", _("Urgent requests")),
    ("urgent_within_target", _("Urgent answered in time")),
    ("urgent_within_target_share", _("Urgent answered in time (share)")),
]


def row_json(row: Row) -> dict[str, Any]:
    facility = row.facility
    return {
        "month": f"{row.month:%Y-%m}",
        "facility": {
            "id": str(facility.external_id),
            "code": facility.code,
            "name": facility.name,
            "kind": facility.kind,
        },
        **{key: getattr(row, key) for key, _label in FIGURES},
    }


def provinces_json(scope: DashboardScope) -> list[str] | None:
    return None if scope.provinces is None else sorted(scope.provinces)


def rows_csv(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [str(_("Month")), str(_("Facility code")), str(_("Facility"))]
        + [str(label) for _key, label in FIGURES]
    )
    for row in rows:
        values = [getattr(row, key) for key, _label in FIGURES]
        writer.writerow(
            [f"{row.month:%m/%Y}", row.facility.code, row.facility.name]
            + ["" if v is None else v for v in values]
        )
    return "\ufeff" + out.getvalue()
