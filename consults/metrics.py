"""The figures every process shares, read from the database when /metrics is scraped, so
that no process's count can drift (telehealth/metrics.py has the per-process ones)."""

from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from consults.models import Consultation
from consults.room.models import RoomPeer

ROOMS = ("telehealth_rooms_with_peers", "Consult rooms with a live peer (all processes).")
CALLS = ("telehealth_calls_in_progress", "Consultations in progress (all processes).")


class DatabaseFigures(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Names for the registry, without a query (it asks at registration)."""
        yield GaugeMetricFamily(*ROOMS)
        yield GaugeMetricFamily(*CALLS)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        fresh = timezone.now() - timedelta(seconds=settings.ROOM_PEER_TTL_SECONDS)
        live = RoomPeer.objects.filter(last_seen__gte=fresh)
        rooms = live.values("consultation_id").distinct().count()
        calls = Consultation.objects.filter(status=Consultation.Status.IN_PROGRESS).count()
        yield GaugeMetricFamily(*ROOMS, value=rooms)
        yield GaugeMetricFamily(*CALLS, value=calls)
