"""Shared by the scheduling benchmarks: a throw-away database, a real daphne serving
bench.settings (the app + the F3 floor), an HTTP/1.1 keep-alive client, and the
RESULTS.md writer. Run from the repository root: `.venv/bin/python bench/<name>.py`.
"""

import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-only-insecure-key")
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
# Pooled database connections, as deploy/env.example runs daphne: without the pool every
# request would also pay for a new PostgreSQL connection.
os.environ.setdefault("DATABASE_POOL_MAX_SIZE", "20")


def setup_django() -> None:
    import django

    django.setup()


@contextmanager
def bench_database(name: str) -> Iterator[None]:
    """A fresh migrated database (`<DATABASE_URL's name>_bench_<name>` on PostgreSQL, so
    two checkouts benchmarking on one server do not drop each other's), dropped afterwards."""
    from django.db import connection

    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        f"{connection.settings_dict['NAME']}_bench_{name}"
        if connection.vendor == "postgresql"
        else str(ROOT / "artifacts" / f"bench_{name}.sqlite3")
    )
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.close()
        connection.creation.destroy_test_db(old, verbosity=0)


def analyze() -> None:
    """Table statistics after seeding, as autovacuum keeps them on a live database: without
    them PostgreSQL plans the first queries over tens of thousands of fresh rows blind."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


@contextmanager
def daphne() -> Iterator["Client"]:
    from tests.e2e.servers import Daphne

    server = Daphne("bench-daphne", extra_env={"DJANGO_SETTINGS_MODULE": "bench.settings"})
    server.start()
    try:
        yield Client(server.port)
    finally:
        server.stop()


class Client:
    """One keep-alive HTTP/1.1 connection; returns (status, body, milliseconds)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, float]:
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Content-Type": "application/json", "Origin": "http://127.0.0.1"} | (headers or {})
        started = time.perf_counter()
        self.conn.request(method, path, body=data, headers=hdrs)
        response = self.conn.getresponse()
        raw = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        return response.status, json.loads(raw) if raw else None, elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values):.1f} ms, p95 {percentile(values, 95):.1f} ms, "
        f"max {max(values):.1f} ms (n={len(values)})"
    )


def machine() -> str:
    from django.db import connection

    cpu = os.cpu_count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.node()} · {platform.machine()} · {cpu} cores · load {load} · Python "
        f"{platform.python_version()} · {connection.vendor}"
    )


def write_section(key: str, title: str, lines: list[str]) -> None:
    """Replace this benchmark's section of bench/RESULTS.md (others stay as they are)."""
    start, end = f"<!-- {key} -->", f"<!-- /{key} -->"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = "\n".join([start, f"## {title}", "", f"Run {stamp} on {machine()}.", "", *lines, end])
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)
    print("\n".join(lines))


def git_revision() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip()
