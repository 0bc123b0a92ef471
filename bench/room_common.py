"""Shared pieces of the room benchmarks: the F2 floor (a minimal Channels relay consumer on
the same daphne + Redis as the app), data set-up, a daphne process, and result writing.

The floor consumer lives here, never in the app: it has no auth and no validation.
"""

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telehealth.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-insecure-key")
    if not os.environ.get("REDIS_URL") or "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("set DATABASE_URL (PostgreSQL) and REDIS_URL: the budgets are for that stack")
    import logging

    import django

    django.setup()
    logging.getLogger().setLevel(logging.WARNING)


def prepare(rooms: int) -> tuple[list[str], dict[str, str]]:
    """Migrate; make a station nurse, a specialist and `rooms` booked consults.

    Returns the consult ids and a session cookie per role (sessions made directly).
    """
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from clinics.models import Facility, Membership
    from tests import factories

    call_command("migrate", verbosity=0)
    stamp = str(time.time_ns())[-8:]
    station = factories.make_facility(code=f"B{stamp}")
    hospital = factories.make_facility(Facility.Kind.CENTRAL_HOSPITAL, code=f"H{stamp}")
    nurse = factories.make_user(Membership.Role.STATION_STAFF, station, username=f"bn{stamp}")
    specialist = factories.make_user(Membership.Role.SPECIALIST, hospital, username=f"bs{stamp}")
    patient = factories.make_patient(station)
    consult_ids = [
        str(
            factories.make_consultation(
                patient=patient, specialist=specialist, hospital=hospital
            ).external_id
        )
        for _ in range(rooms)
    ]
    cookies = {}
    for role, user in (("station", nurse), ("specialist", specialist)):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies[role] = f"sessionid={session.session_key}"
    return consult_ids, cookies


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """daphne serving bench.room_asgi (the app plus the floor route)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}"
        env = dict(os.environ, DEBUG="0", PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
        # As deployed (docs/deploy.md): keep database connections between the consumers'
        # database_sync_to_async calls; 0 would open one per call.
        env.setdefault("DATABASE_CONN_MAX_AGE", "60")
        (ROOT / "artifacts").mkdir(exist_ok=True)
        log = (ROOT / "artifacts" / f"bench-daphne-{self.port}.log").open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "bench.room_asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/login/", timeout=2):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError("daphne did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # daphne waits for open sockets
            self.proc.kill()
            self.proc.wait(timeout=5)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p99": pct(values, 99),
        "max": max(values),
    }


def machine() -> str:
    cpus = os.cpu_count()
    return f"{platform.node()} · {platform.processor() or platform.machine()} · {cpus} cores"


def write_section(title: str, body: str) -> None:
    """Replace (or append) `## title` in bench/RESULTS.md."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    header = f"## {title}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    where = f"{stamp} · {machine()} · load average after the run {load}"
    section = f"{header}\n\n{where}\n\n{body.strip()}\n"
    if header in text:
        start = text.index(header)
        end = text.find("\n## ", start + len(header))
        text = text[:start] + section + ("" if end == -1 else text[end:])
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text)


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame)
