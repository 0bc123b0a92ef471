"""/healthz answers without the database; /readyz names what is not ready, within ~2 s."""

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from telehealth import health


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers (a hung Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    server.close()


def test_healthz_answers_without_touching_the_database() -> None:
    # No django_db mark: pytest-django fails any query this test makes.
    r = Client().get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_healthz_refuses_a_post() -> None:
    assert Client().post("/healthz").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_readyz_reports_each_check_when_all_are_ready(settings: Any) -> None:
    r = Client().get("/readyz")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["status"] == "ok"
    expected = {"database", "migrations"} | ({"redis"} if settings.REDIS_CONFIGURED else set())
    assert set(body["checks"]) == expected
    assert set(body["checks"].values()) == {"ok"}
    assert r["Cache-Control"] == "no-store"


@pytest.mark.django_db(transaction=True)
def test_readyz_names_a_hung_redis_within_two_seconds(settings: Any, silent_port: int) -> None:
    settings.REDIS_CONFIGURED = True
    settings.READINESS_CHECK_TIMEOUT = 1.0
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{silent_port}/0",
            "OPTIONS": {"socket_connect_timeout": 30, "socket_timeout": 30},
        }
    }
    started = time.monotonic()
    r = Client().get("/readyz")
    elapsed = time.monotonic() - started
    assert r.status_code == 503
    assert r.json()["failing"] == ["redis"]
    assert r.json()["checks"]["redis"] == "timeout"
    assert r.json()["checks"]["database"] == "ok"
    assert elapsed < 2.0


@pytest.mark.django_db(transaction=True)
def test_readyz_names_an_unapplied_migration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "_migrated", False)
    recorder = MigrationRecorder(connection)
    latest = recorder.migration_qs.filter(app="clinics").order_by("-id").first()
    assert latest is not None
    latest.delete()
    try:
        r = Client().get("/readyz")
    finally:
        recorder.record_applied(latest.app, latest.name)
    assert r.status_code == 503
    assert r.json()["failing"] == ["migrations"]
    assert r.json()["checks"]["migrations"] == "error: RuntimeError"
