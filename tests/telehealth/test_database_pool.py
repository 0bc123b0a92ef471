"""The PostgreSQL pool (DATABASE_POOL_MAX_SIZE) lends only live connections."""

import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper
from django.db.utils import OperationalError

from tests.telehealth.test_settings import VARS

pytestmark = pytest.mark.postgres

SETTINGS = str(Path(__file__).resolve().parents[2] / "telehealth" / "settings.py")
APP_NAME = "telehealth-pool-test"


@pytest.fixture
def pooled(
    monkeypatch: pytest.MonkeyPatch, django_db_setup: None, django_db_blocker: Any
) -> Iterator[DatabaseWrapper]:
    """A database connection configured as the settings configure daphne's (a pool of 2),
    on the test database, its backends named so the test can find and kill them. Outside
    a test case's transaction: the pool's connections are other sessions, as in daphne."""
    for name in VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("DATABASE_URL", "postgres://placeholder/placeholder")
    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "2")
    db: dict[str, Any] = runpy.run_path(SETTINGS)["DATABASES"]["default"]
    for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
        db[key] = connection.settings_dict[key]
    db["OPTIONS"]["application_name"] = APP_NAME
    connections.settings["pooled"] = connections.configure_settings({"default": db})["default"]
    wrapper = connections["pooled"]
    assert isinstance(wrapper, DatabaseWrapper)
    with django_db_blocker.unblock():
        yield wrapper
        wrapper.close()
        wrapper.close_pool()
        connection.close()
    del connections["pooled"]
    del connections.settings["pooled"]


def backend_pid(db: DatabaseWrapper) -> int:
    """Borrow a connection for one query, as a request does, and give it back."""
    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid: int = cursor.fetchone()[0]
            return pid
    finally:
        db.close()


def kill_pool_backends() -> int:
    """What a PostgreSQL restart does to the pool's connections."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            [APP_NAME],
        )
        killed: int = cursor.fetchone()[0]
        return killed


def test_it_replaces_a_pooled_connection_killed_by_the_server(pooled: DatabaseWrapper) -> None:
    before = backend_pid(pooled)
    assert kill_pool_backends() >= 1
    after = backend_pid(pooled)  # no error: the pool's check found the dead one first
    assert after != before


def test_without_the_check_the_first_use_of_a_killed_connection_fails(
    pooled: DatabaseWrapper,
) -> None:
    # Why the settings turn the check on: this is what a client saw after a restart.
    pooled.close_pool()
    pooled.settings_dict["CONN_HEALTH_CHECKS"] = False
    backend_pid(pooled)
    assert kill_pool_backends() >= 1
    with pytest.raises(OperationalError):
        backend_pid(pooled)
