"""The dashboard's figures, per facility (station or hospital) and per local month.

Counts are aggregated in SQL, one query per figure family and per facility time zone
(in practice one zone: Asia/Ho_Chi_Minh). Medians of waits and of call quality need the
per-consult values, which come back in one query each. Definitions: docs/dashboard.md.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, F, IntegerField, Max, OuterRef, Q, Subquery, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from clinics.models import Facility
from consults.dashboard.access import DashboardScope
from consults.dashboard.median import Median, median
from consults.models import Consultation, ConsultationEvent
from consults.scheduling.models import ConsultRequest

S = Consultation.Status
GROUPS = ("station", "hospital")
# No hospital setting holds a triage target yet: an urgent request is answered in time
# when the hospital accepts or declines it within two hours of filing.
URGENT_TARGET = timedelta(hours=2)
MAX_MONTHS = 24

Key = tuple[int, date]  # (facility pk, first day of the local month)


@dataclass
class Row:
    facility: Facility
    month: date
    requested: int = 0
    booked: int = 0
    completed: int = 0
    cancelled: int = 0
    no_show_station: int = 0
    no_show_specialist: int = 0
    failed: int = 0
    median_wait_hours: float | None = None
    quality_consults: int = 0
    median_rtt_ms: float | None = None
    median_loss_pct: float | None = None
    audio_only_consults: int = 0
    urgent_requests: int = 0
    urgent_within_target: int = 0

    @property
    def audio_only_share(self) -> float | None:
        return _share(self.audio_only_consults, self.quality_consults)

    @property
    def urgent_within_target_share(self) -> float | None:
        return _share(self.urgent_within_target, self.urgent_requests)

    @property
    def no_shows(self) -> int:
        return self.no_show_station + self.no_show_specialist

    @property
    def upcoming_or_open(self) -> int:
        """Booked for the month and not (yet) ended: booked, checked in, in progress."""
        ended = self.completed + self.cancelled + self.no_shows + self.failed
        return self.booked - ended


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class _Partial:
    counts: dict[str, int] = field(default_factory=dict)
    waits: list[float] = field(default_factory=list)
    rtts: list[float | None] = field(default_factory=list)
    losses: list[float | None] = field(default_factory=list)
    audio_only: int = 0
    quality_consults: int = 0


def months_between(first: date, last: date) -> list[date]:
    months, current = [], first.replace(day=1)
    while current <= last:
        months.append(current)
        current = _next_month(current)
    return months


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _local_month(value: datetime | date, zone: ZoneInfo) -> date:
    if isinstance(value, datetime):
        value = (value.astimezone(zone) if timezone.is_aware(value) else value).date()
    return value.replace(day=1)


def dashboard_rows(
    *, first: date, last: date, group: str, scope: DashboardScope, now: datetime | None = None
) -> list[Row]:
    """Rows for each facility of the `group` kind with activity in [first, last] months,
    counting only the consults and requests in `scope` (consults.dashboard.access)."""
    assert group in GROUPS
    now = now or timezone.now()
    partials: dict[Key, _Partial] = defaultdict(_Partial)
    zones = Facility.objects.order_by().values_list("time_zone", flat=True).distinct()
    for zone_name in zones:
        zone = ZoneInfo(zone_name)
        start = datetime(first.year, first.month, 1, tzinfo=zone)
        end_month = _next_month(last)
        end = datetime(end_month.year, end_month.month, 1, tzinfo=zone)
        consults = Consultation.objects.order_by().filter(
            scope.consults(), **{f"{group}__time_zone": zone_name}, start__gte=start, start__lt=end
        )
        _count_consults(consults, group, zone, partials)
        _collect_waits(consults, group, zone, partials)
        _collect_quality(consults, group, zone, partials)
        requests = ConsultRequest.objects.order_by().filter(
            scope.consults("consultation__"),
            **{f"consultation__{group}__time_zone": zone_name},
            created_at__gte=start,
            created_at__lt=end,
        )
        _count_requests(requests, group, zone, now, partials)
    facilities = Facility.objects.in_bulk({pk for pk, _ in partials})
    rows = [_row(facilities[pk], month, p) for (pk, month), p in partials.items()]
    return sorted(rows, key=lambda r: (r.month, r.facility.name, r.facility.pk))


def _count_consults(consults: Any, group: str, zone: ZoneInfo, out: dict[Key, _Partial]) -> None:
    per_month = (
        consults.annotate(month=TruncMonth("start", tzinfo=zone))
        .values(f"{group}_id", "month")
        .annotate(
            booked=Count("id"),
            completed=Count("id", filter=Q(status=S.COMPLETED)),
            cancelled=Count("id", filter=Q(status=S.CANCELLED)),
            no_show_station=Count(
                "id", filter=Q(status=S.NO_SHOW, no_show_party=Consultation.Party.STATION)
            ),
            no_show_specialist=Count(
                "id", filter=Q(status=S.NO_SHOW, no_show_party=Consultation.Party.SPECIALIST)
            ),
            failed=Count("id", filter=Q(status=S.FAILED)),
        )
    )
    for item in per_month:
        key = (item.pop(f"{group}_id"), _local_month(item.pop("month"), zone))
        out[key].counts.update(item)


def _collect_waits(consults: Any, group: str, zone: ZoneInfo, out: dict[Key, _Partial]) -> None:
    # A request creates its consultation row when it is filed, so created_at is the filing
    # time for requests and the booking time for direct bookings.
    rows = consults.exclude(status=S.CANCELLED).values_list(f"{group}_id", "start", "created_at")
    for pk, start, created_at in rows:
        out[(pk, _local_month(start, zone))].waits.append(
            max(0.0, (start - created_at).total_seconds() / 3600)
        )


def _collect_quality(consults: Any, group: str, zone: ZoneInfo, out: dict[Key, _Partial]) -> None:
    audio_only = Q(quality_reports__audio_only_s__gt=0) | Q(quality_reports__video=False)
    per_consult = (
        consults.annotate(
            reports=Count("quality_reports"),
            rtt=Median("quality_reports__rtt_ms"),
            loss=Median("quality_reports__loss_pct"),
            audio_only=Max(Case(When(audio_only, then=1), default=0, output_field=IntegerField())),
        )
        .filter(reports__gt=0)
        .values_list(f"{group}_id", "start", "rtt", "loss", "audio_only")
    )
    for pk, start, rtt, loss, audio in per_consult:
        partial = out[(pk, _local_month(start, zone))]
        partial.quality_consults += 1
        partial.rtts.append(rtt)
        partial.losses.append(loss)
        partial.audio_only += int(audio or 0)


def _count_requests(
    requests: Any, group: str, zone: ZoneInfo, now: datetime, out: dict[Key, _Partial]
) -> None:
    R = ConsultRequest.State
    # When the request left "requested": accepted (booked), declined or withdrawn (cancelled).
    left_at = (
        ConsultationEvent.objects.filter(
            consultation=OuterRef("consultation"), from_status=S.REQUESTED
        )
        .order_by("at", "id")
        .values("at")[:1]
    )
    deadline = F("created_at") + URGENT_TARGET
    answered = Q(state__in=[R.ACCEPTED, R.DECLINED])
    in_time = answered & Q(left_at__lte=deadline)
    # Not counted yet: still open and not yet due; withdrawn by the station before the
    # deadline (nobody could have answered it).
    pending = Q(left_at__isnull=True, created_at__gt=now - URGENT_TARGET)
    withdrawn_early = ~answered & Q(left_at__isnull=False, left_at__lte=deadline)
    urgent = Q(consultation__urgency=Consultation.Urgency.URGENT)
    per_month = (
        requests.annotate(month=TruncMonth("created_at", tzinfo=zone), left_at=Subquery(left_at))
        .values(f"consultation__{group}_id", "month")
        .annotate(
            requested=Count("id"),
            urgent_requests=Count("id", filter=urgent & ~pending & ~withdrawn_early),
            urgent_within_target=Count("id", filter=urgent & in_time),
        )
    )
    for item in per_month:
        pk = item.pop(f"consultation__{group}_id")
        if pk is None:
            continue
        out[(pk, _local_month(item.pop("month"), zone))].counts.update(item)


def _row(facility: Facility, month: date, p: _Partial) -> Row:
    wait = median(p.waits)
    rtt, loss = median(p.rtts), median(p.losses)
    return Row(
        facility=facility,
        month=month,
        **p.counts,
        median_wait_hours=round(wait, 1) if wait is not None else None,
        quality_consults=p.quality_consults,
        median_rtt_ms=round(rtt, 1) if rtt is not None else None,
        median_loss_pct=round(loss, 2) if loss is not None else None,
        audio_only_consults=p.audio_only,
    )


def monthly_totals(rows: list[Row], months: list[date]) -> list[dict[str, Any]]:
    """Consults per month by outcome over `rows` (the chart), every month present."""
    keys = ("booked", "completed", "cancelled", "no_shows", "failed", "upcoming_or_open")
    totals = {m: dict.fromkeys(keys, 0) for m in months}
    for row in rows:
        for key in keys:
            totals[row.month][key] += getattr(row, key)
    return [{"month": m, **totals[m]} for m in months]
