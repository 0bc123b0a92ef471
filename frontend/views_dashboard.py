"""The programme dashboard page: a month range form, an SVG chart drawn here, the table."""

import math
from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from consults.dashboard import export
from consults.dashboard.access import dashboard_scope_get
from consults.dashboard.query import dashboard_query
from consults.dashboard.selectors import URGENT_TARGET, dashboard_rows, monthly_totals
from telehealth.errors import AppError

# Stacked from the bottom; each has a CSS class in dashboard.css and a legend entry.
SERIES = ("completed", "no_shows", "failed", "cancelled", "upcoming_or_open")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 264, 36, 34, 10
# A month label ("03/2026") at the axis' 14-unit font is about 56 units wide; labels are
# at least this far apart, centre to centre, so that none touches the next; they hang low
# enough below the axis that the first one clears the y-axis' "0" (LABEL_DROP).
LABEL_SPACING = 72
LABEL_DROP = 24


def _series_labels() -> dict[str, str]:
    return {
        "completed": _("Completed"),
        "no_shows": _("No-show"),
        "failed": _("Technical failure"),
        "cancelled": _("Cancelled"),
        "upcoming_or_open": _("Booked, not yet held"),
    }


def _ceiling(value: int) -> int:
    """A round top for the axis: 1, 2 or 5 × 10^n, at least `value`."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def chart(totals: list[dict[str, Any]]) -> dict[str, Any]:
    """Bar geometry for consults per month by outcome, in viewBox units."""
    top = _ceiling(max([t["booked"] for t in totals] + [1]))
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(totals), 1)
    bar_w = max(slot * 0.7, 2)
    label_every = max(1, math.ceil(LABEL_SPACING / slot))
    bars = []
    for i, total in enumerate(totals):
        x = LEFT + i * slot + (slot - bar_w) / 2
        y = HEIGHT - BOTTOM
        segments = []
        for name in SERIES:
            h = total[name] * plot_h / top
            if h > 0:
                y -= h
                segments.append({"series": name, "y": round(y, 1), "h": round(h, 1)})
        month: date = total["month"]
        bars.append(
            {
                "x": round(x, 1),
                "w": round(bar_w, 1),
                "cx": round(x + bar_w / 2, 1),
                "segments": segments,
                "booked": total["booked"],
                "label": f"{month:%m/%Y}" if i % label_every == 0 else "",
                "title": f"{month:%m/%Y}: {total['booked']}",
            }
        )
    ticks = [
        {"value": v, "y": round(HEIGHT - BOTTOM - v * plot_h / top, 1)} for v in (0, top // 2, top)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "base": HEIGHT - BOTTOM,
        "label_y": HEIGHT - BOTTOM + LABEL_DROP,
        "bars": bars,
        "ticks": ticks if top > 1 else ticks[::2],
    }


def _display(key: str, value: float | None) -> str:
    if value is None:
        return "–"
    if key.endswith("_share"):
        return f"{formats.number_format(value * 100, 0)} %"
    if isinstance(value, float):
        return formats.number_format(value, 2 if key == "median_loss_pct" else 1)
    return str(value)


def _query(params: QueryDict) -> tuple[Any, dict[str, list[str]]]:
    """A field left empty in the form means its default."""
    given = QueryDict(mutable=True)
    for key, values in params.lists():
        kept = [v for v in values if v]
        if kept:
            given.setlist(key, kept)
    try:
        return dashboard_query(given), {}
    except AppError as exc:
        return dashboard_query(QueryDict()), {k: [str(m) for m in v] for k, v in exc.fields.items()}


@login_required
@require_GET
def dashboard_page(request: HttpRequest) -> HttpResponse:
    scope = dashboard_scope_get(request.user)
    query, errors = _query(request.GET)
    rows = dashboard_rows(first=query.first, last=query.last, group=query.group, scope=scope)
    labels = _series_labels()
    columns = [{"key": key, "label": label} for key, label in export.FIGURES]
    table = [
        {
            "row": row,
            "cells": [
                {"label": label, "value": _display(key, getattr(row, key))}
                for key, label in export.FIGURES
            ],
        }
        for row in rows
    ]
    context = {
        "query": query,
        "provinces": export.provinces_json(scope),
        "form": query.as_params() if not errors else request.GET,
        "errors": errors,
        "columns": columns,
        "table": table,
        "chart": chart(monthly_totals(rows, query.months)),
        "legend": [{"series": s, "label": labels[s]} for s in SERIES],
        "csv_url": f"{reverse('dashboard-csv')}?{urlencode(query.as_params())}",
        "urgent_target_hours": URGENT_TARGET.total_seconds() / 3600,
    }
    return render(
        request, "frontend/dashboard/dashboard.html", context, status=400 if errors else 200
    )
