"""Prometheus metrics (docs/deploy.md "Metrics").

Each metric is changed in one place: sockets by the socket guard (consults/realtime/guard.py),
error codes by the error handler (telehealth/errors.py), bookings by the booking service, the
relayed frames by the room's relay. Calls in progress and rooms with peers are read from the
database when scraped (consults/metrics.py): they are the same figure on every process.

Every daphne process keeps its own registry and answers for itself on its own port: no
multiprocess mode.
"""

import hmac
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

OPEN_SOCKETS = Gauge(
    "telehealth_open_sockets", "WebSockets this process is serving, by kind.", ["kind"]
)
SIGNALING_RELAYED = Counter(
    "telehealth_signaling_relayed_frames", "Signaling frames relayed from one peer to another."
)
BOOKINGS = Counter("telehealth_bookings", "Consultations booked (committed).")
ERRORS = Counter("telehealth_errors", "Errors answered, by their stable code.", ["code"])
REQUEST_LATENCY = Histogram(
    "telehealth_request_duration_seconds",
    "HTTP request latency, by the view's name (never by URL: no ids in labels).",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


@contextmanager
def socket_open(consumer: object) -> Iterator[None]:
    """Counts a socket while its consumer runs: RoomConsumer → "room", NotesConsumer → "notes"."""
    kind = type(consumer).__name__.removesuffix("Consumer").lower()
    OPEN_SOCKETS.labels(kind).inc()
    try:
        yield
    finally:
        OPEN_SOCKETS.labels(kind).dec()


def error_answered(code: str) -> None:
    ERRORS.labels(code).inc()


class LatencyMiddleware:
    """Outermost: times the whole request, labelled with the view that answered it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match._func_path) if match else "unmatched"
        REQUEST_LATENCY.labels(view).observe(time.perf_counter() - started)
        return response


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    return request.META.get("REMOTE_ADDR") in settings.METRICS_ALLOWED_IPS


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """404 to anyone else: the endpoint does not confirm it exists."""
    if not _allowed(request):
        raise Http404
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
