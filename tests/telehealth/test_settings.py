"""Settings come from the environment, with safe defaults and clear failures."""

import runpy
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

SETTINGS = str(Path(__file__).resolve().parents[2] / "telehealth" / "settings.py")
VARS = ["DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CHANNEL_LAYER_KEY", "ALLOWED_HOSTS"]
VARS += ["DATABASE_CONN_MAX_AGE", "DATABASE_POOL_MAX_SIZE", "IDEMPOTENCY_RETENTION_HOURS"]
VARS += ["DATABASE_CONNECT_TIMEOUT", "DATABASE_POOL_TIMEOUT", "DATABASE_POOL_RECONNECT_TIMEOUT"]
VARS += ["LOGIN_FAILURE_WINDOW_MINUTES", "LOGIN_FAILURE_RETENTION_HOURS", "REMINDER_LEASE_SECONDS"]


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(SETTINGS)


def test_a_missing_secret_key_is_refused_outside_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        load(monkeypatch)


def test_debug_runs_without_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load(monkeypatch, DEBUG="1")["SECRET_KEY"]


def test_the_embedded_default_is_sqlite_and_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load(monkeypatch, SECRET_KEY="k")
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert s["TIME_ZONE"] == "Asia/Ho_Chi_Minh"
    assert s["LANGUAGE_CODE"] == "vi"
    assert [code for code, _ in s["LANGUAGES"]] == ["vi", "en"]


def test_postgres_and_redis_come_from_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load(
        monkeypatch,
        SECRET_KEY="k",
        DATABASE_URL="postgres://th:pw@db.internal:5433/telehealth",
        REDIS_URL="redis://cache.internal:6379/2",
        CHANNEL_LAYER_KEY="layer-secret",
        ALLOWED_HOSTS="telehealth.soyte.example, 10.0.0.5",
    )
    db = s["DATABASES"]["default"]
    assert (db["ENGINE"], db["HOST"], db["PORT"], db["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        5433,
        "telehealth",
    )
    layer = s["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "consults.realtime.layer.RedisChannelLayer"
    assert layer["CONFIG"]["hosts"] == [
        {"address": "redis://cache.internal:6379/2", "socket_timeout": 30, "max_connections": 2000}
    ]
    assert layer["CONFIG"]["symmetric_encryption_keys"] == ["layer-secret"]
    assert s["ALLOWED_HOSTS"] == ["telehealth.soyte.example", "10.0.0.5"]


def test_postgres_connections_are_pooled_when_a_pool_size_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgres://th:pw@db.internal:5433/telehealth"
    assert "pool" not in load(monkeypatch, SECRET_KEY="k", DATABASE_URL=url)["DATABASES"][
        "default"
    ].get("OPTIONS", {})
    db = load(
        monkeypatch,
        SECRET_KEY="k",
        DATABASE_URL=url,
        DATABASE_CONN_MAX_AGE="60",
        DATABASE_POOL_MAX_SIZE="20",
    )["DATABASES"]["default"]
    assert db["OPTIONS"]["pool"] | {"min_size": 2, "max_size": 20} == db["OPTIONS"]["pool"]
    assert db["CONN_MAX_AGE"] == 0  # Django refuses a pool with persistent connections
    assert db["CONN_HEALTH_CHECKS"] is True  # the pool checks a connection before lending it
    one = load(monkeypatch, SECRET_KEY="k", DATABASE_URL=url, DATABASE_POOL_MAX_SIZE="1")
    assert one["DATABASES"]["default"]["OPTIONS"]["pool"]["min_size"] == 1


def test_a_bad_integer_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured, match="SESSION_IDLE_MINUTES"):
        load(monkeypatch, SECRET_KEY="k", SESSION_IDLE_MINUTES="half an hour")


def test_idempotency_answers_are_kept_48_hours_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load(monkeypatch, SECRET_KEY="k")["IDEMPOTENCY_RETENTION_HOURS"] == 48
    s = load(monkeypatch, SECRET_KEY="k", IDEMPOTENCY_RETENTION_HOURS="6")
    assert s["IDEMPOTENCY_RETENTION_HOURS"] == 6


@pytest.mark.parametrize("hours", ["0", "-1", "two days"])
def test_a_useless_idempotency_retention_is_refused(
    monkeypatch: pytest.MonkeyPatch, hours: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match="IDEMPOTENCY_RETENTION_HOURS"):
        load(monkeypatch, SECRET_KEY="k", IDEMPOTENCY_RETENTION_HOURS=hours)


def test_failed_logins_are_kept_72_hours_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load(monkeypatch, SECRET_KEY="k")["LOGIN_FAILURE_RETENTION_HOURS"] == 72
    s = load(monkeypatch, SECRET_KEY="k", LOGIN_FAILURE_RETENTION_HOURS="1")
    assert s["LOGIN_FAILURE_RETENTION_HOURS"] == 1


def test_a_login_failure_retention_shorter_than_the_window_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ImproperlyConfigured, match="LOGIN_FAILURE_RETENTION_HOURS"):
        load(
            monkeypatch,
            SECRET_KEY="k",
            LOGIN_FAILURE_WINDOW_MINUTES="120",
            LOGIN_FAILURE_RETENTION_HOURS="1",
        )


def test_a_reminder_lease_shorter_than_30_seconds_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load(monkeypatch, SECRET_KEY="k")["REMINDER_LEASE_SECONDS"] == 300
    with pytest.raises(ImproperlyConfigured, match="REMINDER_LEASE_SECONDS"):
        load(monkeypatch, SECRET_KEY="k", REMINDER_LEASE_SECONDS="5")
