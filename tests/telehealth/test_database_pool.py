"""The PostgreSQL pool (DATABASE_POOL_MAX_SIZE) lends only live connections, and with the
database gone a loan fails within the pool's timeout instead of hanging."""

import runpy
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper
from django.db.utils import OperationalError

from tests.telehealth.pg_faults import admin_connection, allow_connections, terminate_backends
from tests.telehealth.test_settings import VARS, load

# transaction=True: pytest-django creates the test database only for tests that ask for it,
# and the pool's connections, being other sessions, must see committed data only.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SETTINGS = str(Path(__file__).resolve().parents[2] / "telehealth" / "settings.py")
APP_NAME = "telehealth-pool-test"
POOL_SIZE = 4


@pytest.fixture
def pooled(
    monkeypatch: pytest.MonkeyPatch, django_db_setup: None, django_db_blocker: Any
) -> Iterator[DatabaseWrapper]:
    """A database connection configured as the settings configure daphne's (a pool of 4),
    on the test database, its backends named so the test can find and kill them. Outside
    a test case's transaction: the pool's connections are other sessions, as in daphne."""
    for name in VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("DATABASE_URL", "postgres://placeholder/placeholder")
    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", str(POOL_SIZE))
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


def fill(db: DatabaseWrapper) -> None:
    """Leave the pool at its largest, every connection idle in it: as after a busy moment."""
    pool = db.pool
    assert pool is not None
    pool.open()
    lent = [pool.getconn() for _ in range(POOL_SIZE)]
    for conn in lent:
        pool.putconn(conn)
    assert pool.get_stats()["pool_available"] == POOL_SIZE


def kill_pool_backends() -> int:
    with admin_connection() as admin:
        return terminate_backends(admin, APP_NAME)


def test_it_replaces_a_pooled_connection_killed_by_the_server(pooled: DatabaseWrapper) -> None:
    before = backend_pid(pooled)
    assert kill_pool_backends() >= 1
    after = backend_pid(pooled)  # no error: the pool's check found the dead one first
    assert after != before


def test_one_loan_finds_every_killed_connection_and_waits_for_a_new_one_only(
    pooled: DatabaseWrapper,
) -> None:
    fill(pooled)
    assert kill_pool_backends() == POOL_SIZE
    started = time.monotonic()
    backend_pid(pooled)
    # psycopg_pool alone would try the dead ones one by one, waiting 0 s, 1 s, 2 s between
    # them: past the pool's 3 s timeout with four.
    assert time.monotonic() - started < 1
    loans = []
    for _ in range(POOL_SIZE):
        started = time.monotonic()
        backend_pid(pooled)
        loans.append(time.monotonic() - started)
    assert max(loans) < 0.5


def test_with_the_database_refusing_a_loan_fails_at_the_pool_timeout_then_recovers(
    pooled: DatabaseWrapper,
) -> None:
    fill(pooled)
    timeout = pooled.settings_dict["OPTIONS"]["pool"]["timeout"]
    admin = admin_connection()
    try:
        allow_connections(admin, False)
        kill_pool_backends()
        for _ in range(2):  # the second one too: the pool is not left waiting longer
            started = time.monotonic()
            with pytest.raises(OperationalError, match="couldn't get a connection"):
                backend_pid(pooled)
            assert timeout - 0.1 < time.monotonic() - started < timeout + 0.5
    finally:
        allow_connections(admin, True)
        admin.close()
    allowed = time.monotonic()
    backend_pid(pooled)
    assert time.monotonic() - allowed < 5


def test_many_waiting_loans_all_fail_within_the_timeout_while_the_database_refuses(
    pooled: DatabaseWrapper,
) -> None:
    fill(pooled)
    timeout = pooled.settings_dict["OPTIONS"]["pool"]["timeout"]
    took: list[float] = []

    def loan() -> None:
        started = time.monotonic()
        try:
            backend_pid(connections["pooled"])  # this thread's own, on the same pool
        except OperationalError:
            took.append(time.monotonic() - started)
        finally:
            connections.close_all()

    admin = admin_connection()
    try:
        allow_connections(admin, False)
        kill_pool_backends()
        threads = [threading.Thread(target=loan) for _ in range(3 * POOL_SIZE)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=timeout + 5)
    finally:
        allow_connections(admin, True)
        admin.close()
    assert len(took) == 3 * POOL_SIZE
    assert max(took) < timeout + 0.5


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


def test_the_pool_waits_3_s_for_a_connection_and_reconnects_for_3_s_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgres://th:pw@db.internal:5433/telehealth"
    db = load(monkeypatch, SECRET_KEY="k", DATABASE_URL=url, DATABASE_POOL_MAX_SIZE="20")
    default = db["DATABASES"]["default"]
    assert default["ENGINE"] == "telehealth.postgresql"
    assert default["OPTIONS"]["connect_timeout"] == 2
    assert default["OPTIONS"]["pool"] == {
        "min_size": 2,
        "max_size": 20,
        "timeout": 3,
        "reconnect_timeout": 3,
    }
    tuned = load(
        monkeypatch,
        SECRET_KEY="k",
        DATABASE_URL=url,
        DATABASE_POOL_MAX_SIZE="20",
        DATABASE_POOL_TIMEOUT="5",
        DATABASE_POOL_RECONNECT_TIMEOUT="10",
        DATABASE_CONNECT_TIMEOUT="4",
    )["DATABASES"]["default"]
    assert (tuned["OPTIONS"]["pool"]["timeout"], tuned["OPTIONS"]["pool"]["reconnect_timeout"]) == (
        5,
        10,
    )
    assert tuned["OPTIONS"]["connect_timeout"] == 4


def test_without_the_pool_a_connection_attempt_still_gives_up_after_2_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgres://th:pw@db.internal:5433/telehealth"
    db = load(monkeypatch, SECRET_KEY="k", DATABASE_URL=url)["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert db["OPTIONS"] == {"connect_timeout": 2}
    own = load(monkeypatch, SECRET_KEY="k", DATABASE_URL=f"{url}?connect_timeout=10")
    assert own["DATABASES"]["default"]["OPTIONS"]["connect_timeout"] == 10


def test_a_pool_timeout_below_one_second_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOL_TIMEOUT"):
        load(
            monkeypatch,
            SECRET_KEY="k",
            DATABASE_URL="postgres://th@db.internal/telehealth",
            DATABASE_POOL_MAX_SIZE="20",
            DATABASE_POOL_TIMEOUT="0",
        )
