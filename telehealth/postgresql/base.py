"""Django's PostgreSQL backend; its pool, on finding one dead connection, checks the others.

A PostgreSQL restart, a failover or an operator's `pg_terminate_backend` kills every
connection of the pool at once. psycopg_pool checks a connection when it lends one, and after
a failed check waits before taking the next (1 s, then 2 s, 4 s…, inside the request): with
the pool full of dead connections one request met one after another and gave up only at the
pool's timeout, and the next request met the ones left. Here the first failed check checks
every idle connection at once (one empty query each; a dead one fails without waiting), so
the pool replaces them all in the background and the request waits for a new one only
(docs/decisions.md §18).
"""

from functools import partial
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool


def check_or_sweep(pool: ConnectionPool[Any], conn: psycopg.Connection[Any]) -> None:
    try:
        ConnectionPool.check_connection(conn)
    except psycopg.Error:
        pool.check()
        raise


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> ConnectionPool[Any] | None:
        pool: ConnectionPool[Any] | None = super().pool
        # Django builds the pool with check=ConnectionPool.check_connection (CONN_HEALTH_CHECKS)
        # and refuses a check of our own in OPTIONS["pool"]: replace it once, before first use.
        if pool is not None and pool._check is ConnectionPool.check_connection:
            pool._check = partial(check_or_sweep, pool)
        return pool
