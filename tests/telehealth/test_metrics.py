"""/metrics: only for the scraper; counters and gauges move where the work happens."""

import re
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from prometheus_client import REGISTRY

from consults.models import Consultation
from telehealth.asgi import application
from tests.conftest import Cast
from tests.notes.conftest import session_cookie

pytestmark = pytest.mark.django_db


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_it_is_404_from_an_address_not_allowed() -> None:
    r = Client(REMOTE_ADDR="203.0.113.7").get("/metrics")
    assert r.status_code == 404
    assert b"telehealth_" not in r.content


def test_it_is_404_with_a_wrong_token(settings: Any) -> None:
    settings.METRICS_TOKEN = "scraper-secret"
    client = Client(REMOTE_ADDR="203.0.113.7", headers={"Authorization": "Bearer guessed"})
    assert client.get("/metrics").status_code == 404


def test_the_token_opens_it_from_anywhere(settings: Any) -> None:
    settings.METRICS_TOKEN = "scraper-secret"
    client = Client(REMOTE_ADDR="203.0.113.7", headers={"Authorization": "Bearer scraper-secret"})
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/plain")


def test_an_allowed_address_reads_it_without_a_token(settings: Any) -> None:
    settings.METRICS_ALLOWED_IPS = ["10.8.0.2"]
    assert Client(REMOTE_ADDR="10.8.0.2").get("/metrics").status_code == 200
    assert Client().get("/metrics").status_code == 404  # loopback, no longer listed


def test_calls_in_progress_and_rooms_come_from_the_database(consultation: Consultation) -> None:
    Consultation.objects.filter(pk=consultation.pk).update(status="in_progress")
    text = Client().get("/metrics").content.decode()
    assert re.search(r"^telehealth_calls_in_progress 1\.0$", text, re.M)
    assert re.search(r"^telehealth_rooms_with_peers 0\.0$", text, re.M)


def test_every_error_answered_is_counted_by_its_code(cast: Cast, api: Any) -> None:
    before = sample("telehealth_errors_total", code="not_found")
    missing = "/api/v1/consultations/00000000-0000-0000-0000-000000000000/"
    assert api(cast.nurse).get(missing).status_code == 404
    assert api(cast.nurse).get("/api/v1/no-such-endpoint/").status_code == 404
    assert sample("telehealth_errors_total", code="not_found") == before + 2


def test_latency_is_labelled_by_view_name_never_by_url(cast: Cast, api: Any) -> None:
    consult_url = f"/api/v1/patients/{cast.patient.external_id}/"
    assert api(cast.nurse).get(consult_url).status_code == 200
    text = Client().get("/metrics").content.decode()
    views = set(re.findall(r'telehealth_request_duration_seconds_count\{view="([^"]+)"\}', text))
    assert any("patient" in v for v in views), views
    assert not any(str(cast.patient.external_id) in v or "/" in v for v in views), views


@pytest.mark.django_db(transaction=True)
async def test_an_open_socket_is_counted_by_kind_until_it_closes(cast: Cast) -> None:
    cookie = await sync_to_async(session_cookie)(cast.nurse)
    open_now = sync_to_async(sample)  # a scrape reads the database figures too
    before = await open_now("telehealth_open_sockets", kind="notifications")
    communicator = WebsocketCommunicator(
        application,
        "/ws/notifications/",
        [(b"origin", b"http://127.0.0.1"), (b"cookie", cookie.encode())],
    )
    accepted, _ = await communicator.connect(timeout=5)
    assert accepted
    try:
        assert await open_now("telehealth_open_sockets", kind="notifications") == before + 1
    finally:
        await communicator.disconnect()
    assert await open_now("telehealth_open_sockets", kind="notifications") == before
