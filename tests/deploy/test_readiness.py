"""/readyz of a running daphne turns 503 with the failing check named when PostgreSQL or
Redis goes away, and 200 again when it is back (docs/deploy.md "Health, readiness and
metrics"); /healthz answers throughout."""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from tests.deploy.forwarder import Forwarder
from tests.e2e.servers import Daphne, RedisServer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def probe(server: Daphne, path: str = "/readyz") -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(server.url + path, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def until(server: Daphne, status: int, within: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        answered, body = probe(server)
        if answered == status:
            return body
        assert time.monotonic() < deadline, f"/readyz stayed {answered}: {body}"
        time.sleep(0.2)


def test_readyz_follows_postgresql_and_redis_going_away_and_coming_back(
    start_daphne: Callable[..., Daphne], redis_server: RedisServer
) -> None:
    db = connection.settings_dict
    database = Forwarder((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))).start()
    url = f"postgres://{db['USER']}@127.0.0.1:{database.port}/{db['NAME']}"
    try:
        server = start_daphne(
            "readyz", DATABASE_URL=url, REDIS_URL=redis_server.url, DATABASE_POOL_MAX_SIZE="2"
        )
        assert until(server, 200)["checks"] == {
            "database": "ok",
            "migrations": "ok",
            "redis": "ok",
        }

        database.cut()
        body = until(server, 503)
        assert body["status"] == "fail"
        assert body["failing"] == ["database"]
        assert probe(server, "/healthz") == (200, {"status": "ok"})
        database.start()
        until(server, 200)

        redis_server.stop()
        assert until(server, 503)["failing"] == ["redis"]
        redis_server.start()
        until(server, 200)
    finally:
        database.stop()
