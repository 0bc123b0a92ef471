"""Live note edit propagation: writer saves a section over the consult socket → the other
participant's socket receives `note.updated`. p50/p95 on loopback, budget p95 ≤ 50 ms,
with floor F2 (a bare Channels relay on the same daphne + channel layer) measured in the
same run. Results go to bench/RESULTS.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/th_notes_bench \
    REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/notes_live.py [N]
"""

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telehealth.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-insecure-key")
# As deployed (deploy/env.example): persistent database connections.
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")

import django  # noqa: E402

django.setup()

import websockets  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from clinics.models import Facility, Membership  # noqa: E402
from tests import factories  # noqa: E402
from tests.e2e.servers import Daphne  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Notes: live note edit, writer → other participant"
ORIGIN = "http://127.0.0.1"
PACE = 0.05


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def prepare() -> tuple[str, str, str]:
    call_command("migrate", verbosity=0)
    R = Membership.Role
    run = uuid.uuid4().hex[:8]  # the bench database is reused between runs
    station = factories.make_facility(code=f"S-{run}")
    hospital = factories.make_facility(Facility.Kind.CENTRAL_HOSPITAL, code=f"H-{run}")
    nurse = factories.make_user(R.STATION_STAFF, station, username=f"nurse-{run}")
    specialist = factories.make_user(R.SPECIALIST, hospital, username=f"specialist-{run}")
    consultation = factories.make_consultation(
        patient=factories.make_patient(station), specialist=specialist, hospital=hospital
    )

    def cookie(user: object) -> str:
        client = Client()
        client.force_login(user)  # type: ignore[arg-type]
        name = settings.SESSION_COOKIE_NAME
        return f"{name}={client.cookies[name].value}"

    return str(consultation.external_id), cookie(nurse), cookie(specialist)


async def drain_until(ws: websockets.ClientConnection, type_: str) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame.get("type") == type_:
            return frame


async def measure_notes(url: str, consult: str, writer: str, reader: str, n: int) -> list[float]:
    path = f"{url}/ws/consultations/{consult}/notes/"
    async with (
        websockets.connect(path, origin=ORIGIN, additional_headers={"Cookie": writer}) as w,
        websockets.connect(path, origin=ORIGIN, additional_headers={"Cookie": reader}) as r,
    ):
        await drain_until(w, "notes.state")
        await drain_until(r, "notes.state")
        out = []
        for i in range(n + 20):  # the first 20 warm up
            frame = {
                "type": "note.save",
                "section": "history",
                "content": {"text": f"Bệnh sử, lần sửa {i}"},
                "base_revision": i,
                "client_edit_id": f"bench-{consult}-{i}",
            }
            start = time.perf_counter()
            await w.send(json.dumps(frame))
            seen = await drain_until(r, "note.updated")
            elapsed = (time.perf_counter() - start) * 1000
            assert seen["revision"] == i + 1, seen
            await drain_until(w, "note.saved")
            if i >= 20:
                out.append(elapsed)
            # 20 edits/s: under the socket's 40 frames/s limit (a person saves far less often).
            await asyncio.sleep(max(0.0, PACE - (time.perf_counter() - start)))
        return out


async def measure_floor(url: str, n: int) -> list[float]:
    async with (
        websockets.connect(f"{url}/relay/bench/") as a,
        websockets.connect(f"{url}/relay/bench/") as b,
    ):
        out = []
        for i in range(n + 20):
            start = time.perf_counter()
            await a.send(json.dumps({"i": i, "text": "x" * 60}))
            while json.loads(await asyncio.wait_for(b.recv(), 5))["i"] != i:
                pass
            elapsed = (time.perf_counter() - start) * 1000
            await asyncio.wait_for(a.recv(), 5)  # the sender's own copy
            if i >= 20:
                out.append(elapsed)
            await asyncio.sleep(max(0.0, PACE - (time.perf_counter() - start)))
        return out


def start_relay() -> tuple[subprocess.Popen[bytes], str]:
    from tests.e2e.servers import free_port

    port = free_port()
    env = Daphne("bench-relay").env()
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "bench.notes_relay_asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            import socket

            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"ws://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise TimeoutError("relay daphne did not start")


HEADER = [
    SECTION,
    "",
    "`bench/notes_live.py`: the writer's socket sends `note.save` (20 edits/s, each waiting for",
    "the previous one) → consumer → authorization → `note_save` (consult lock, revision, audit)",
    "→ on commit `note.updated` through the channel layer → the other participant's socket.",
    "Floor F2 in the same run: a bare Channels relay (no auth, no database) on the same daphne",
    "and channel layer. Database connections persistent (`DATABASE_CONN_MAX_AGE=60`, as",
    "deploy/env.example). Budget: p95 ≤ 50 ms. `load` is the 1-minute load average when the",
    "run ended (the machine's 2 cores are shared with other work; the floor shows how much).",
    "",
    "| run (UTC) | machine | db + layer | edits | F2 p50 / p95 ms | notes p50 ms | notes p95 ms "
    "| notes p99 ms | p50 ÷ F2 p50 | budget |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


def write_results(notes: list[float], floor: list[float]) -> str:
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    p95 = percentile(notes, 95)
    row = (
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {platform.node()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f} | {db} + {layer} | {len(notes)} "
        f"| {statistics.median(floor):.2f} / {percentile(floor, 95):.2f} "
        f"| {statistics.median(notes):.2f} | {p95:.2f} | {percentile(notes, 99):.2f} "
        f"| {statistics.median(notes) / statistics.median(floor):.1f}× "
        f"| {'within' if p95 <= 50 else 'OVER'} |"
    )
    old = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Benchmark results\n"
    rows: list[str] = []
    if SECTION in old:
        head, _, rest = old.partition(SECTION)
        body, sep, tail = rest.partition("\n## ")
        rows = [line for line in body.splitlines() if line.startswith("| 20")]
        old = head.rstrip("\n") + ("\n\n" + sep.strip() + " " + tail if sep else "")
    rows = [*rows, row][-10:]
    text = "\n".join([*HEADER, *rows, ""])
    RESULTS.write_text(old.rstrip("\n") + "\n\n" + text, "utf-8")
    return text


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    consult, writer, reader = prepare()
    app = Daphne("bench-notes").start()
    relay, relay_url = start_relay()
    try:
        floor = asyncio.run(measure_floor(relay_url, n))
        notes = asyncio.run(measure_notes(app.ws_url, consult, writer, reader, n))
    finally:
        app.stop()
        relay.terminate()
        relay.wait(10)
    print(write_results(notes, floor))


if __name__ == "__main__":
    main()
