"""The database going away, done to the test database only (never stop the machine's
PostgreSQL: other runs use it), from a connection outside the app's and the test's."""

from typing import Any

import psycopg
from django.db import connection
from psycopg import sql


def admin_connection() -> psycopg.Connection[Any]:
    """A superuser's connection to the `postgres` database: it outlives what it does to the
    test database, and ALTER DATABASE refuses to lock out the database it is run from."""
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"] or None,
        autocommit=True,
    )


def terminate_backends(admin: psycopg.Connection[Any], application_name: str) -> int:
    """What a PostgreSQL restart does to the connections of one application."""
    row = admin.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
        [application_name],
    ).fetchone()
    assert row is not None
    return int(row[0])


def backends(admin: psycopg.Connection[Any], application_name: str) -> int:
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [application_name]
    ).fetchone()
    assert row is not None
    return int(row[0])


def allow_connections(admin: psycopg.Connection[Any], allowed: bool) -> None:
    """Refuse new connections to the test database (its server says so at once), or allow
    them again. Connections already open stay: terminate them too for an outage."""
    admin.execute(
        sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
            sql.Identifier(connection.settings_dict["NAME"]),
            sql.SQL("true" if allowed else "false"),
        )
    )
