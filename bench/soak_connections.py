"""Soak: 10,000 WebSocket connect → hello → welcome → close cycles against one daphne.

Budget (DESIGN.md): daphne's RSS grows ≤ 5 % after the cycles. The RSS is read from
/proc/<pid>/status after a warm-up (the first cycles load code, fill caches and pools) and
again at the end. The floor runs the same cycles against the minimal relay (F2, no auth,
no database) in the same run.

    DATABASE_URL=postgres://… REDIS_URL=redis://… python bench/soak_connections.py [cycles]

With --census (BENCH_DEBUG in bench/room_asgi.py), the run also prints which kinds of live
objects in daphne grew between the end of the warm-up and the end of the cycles, and the
sizes of the structures a closed connection could leave behind (the room's registries, the
channel layer's receive buffers): how the leak of django/channels_redis#384 was found.
"""

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.room_common import ROOT, Server, django_setup, prepare, write_section

WARM_UP = 500
WARM_UP_SECONDS = 60
CONCURRENCY = 8


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def cycle(url: str, cookie: str | None, hello: bool) -> None:
    from websockets.asyncio.client import connect

    origin = url.replace("ws://", "http://").split("/ws/")[0]
    headers = {"Cookie": cookie} if cookie else None
    async with connect(url, origin=origin, additional_headers=headers) as ws:  # type: ignore[arg-type]
        if hello:
            await ws.send(json.dumps({"type": "hello"}))
            while json.loads(await ws.recv())["type"] != "welcome":
                pass
        else:
            await ws.send(json.dumps({"type": "ping"}))


async def run(url: str, cookie: str | None, hello: bool, cycles: int) -> float:
    """`cycles` connect/close cycles, CONCURRENCY at a time; returns seconds taken."""
    started = time.monotonic()
    remaining = iter(range(cycles))

    async def worker() -> None:
        for _ in remaining:
            await cycle(url, cookie, hello)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.monotonic() - started


def census(server: Server, n: int) -> dict[str, Any]:
    """Ask daphne for a census (SIGUSR1) and wait for its file."""
    path = Path(f"{os.environ['BENCH_DEBUG']}.{n}.json")
    path.unlink(missing_ok=True)  # the previous server's
    server.proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 120
    while True:
        try:
            return dict(json.loads(path.read_text()))
        except (FileNotFoundError, ValueError):
            if time.monotonic() > deadline:
                raise TimeoutError("daphne wrote no census") from None
            time.sleep(0.2)


def census_growth(first: dict[str, Any], last: dict[str, Any]) -> None:
    for key in first:
        if key != "types":
            print(f"  {key}: {first[key]} → {last[key]}")
    kinds = set(first["types"]) | set(last["types"])
    grown = {k: last["types"].get(k, 0) - first["types"].get(k, 0) for k in kinds}
    for kind, n in sorted(grown.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {n:+8d} {kind}")


def soak(server: Server, url: str, cookie: str | None, hello: bool, cycles: int) -> dict[str, Any]:
    # At least WARM_UP cycles and WARM_UP_SECONDS: what a connection leaves to be dropped
    # later (the channel layer keeps a closed channel's buffer for up to 45 s) must have
    # reached its steady level before `before` is read, or the growth measures the rate.
    warm_until = time.monotonic() + WARM_UP_SECONDS
    asyncio.run(run(url, cookie, hello, WARM_UP))
    while time.monotonic() < warm_until:
        asyncio.run(run(url, cookie, hello, CONCURRENCY * 10))
    time.sleep(2)  # let the server finish closing the warm-up sockets
    before = rss_kib(server.proc.pid)
    first = census(server, 1) if os.environ.get("BENCH_DEBUG") else None
    # In quarters, with the RSS after each: a leak grows it every quarter; a high-water mark
    # (what the process holds at once at this rate, e.g. the layer's buffers of the last
    # 45 s) stops growing once that is reached.
    seconds, curve = 0.0, []
    for _ in range(4):
        seconds += asyncio.run(run(url, cookie, hello, cycles // 4))
        curve.append(rss_kib(server.proc.pid))
    time.sleep(2)
    after = rss_kib(server.proc.pid)
    if first is not None:
        census_growth(first, census(server, 2))
    return {
        "before": before,
        "after": after,
        "growth": 100 * (after - before) / before,
        "second_half": 100 * (curve[3] - curve[1]) / curve[1],
        "curve": curve,
        "rate": cycles / seconds,
    }


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--census"]
    cycles = int(args[0]) if args else 10_000
    if "--census" in sys.argv:
        (ROOT / "artifacts").mkdir(exist_ok=True)
        os.environ["BENCH_DEBUG"] = str(ROOT / "artifacts" / f"soak-census-{os.getpid()}")
    django_setup()
    consults, cookies = prepare(1)
    results = {}
    for name, path, cookie, hello in (
        ("F2 minimal relay", "/ws/floor/", None, False),
        ("app consult room", f"/ws/consultations/{consults[0]}/", cookies["station"], True),
    ):
        server = Server()
        try:
            results[name] = soak(server, f"{server.ws}{path}", cookie, hello, cycles)
        finally:
            server.stop()
        print(name, results[name], flush=True)
    rows = "\n".join(
        f"| {name} | {r['before'] / 1024:.1f} | "
        + " / ".join(f"{kib / 1024:.1f}" for kib in r["curve"])
        + f" | {r['growth']:+.2f} % | {r['second_half']:+.2f} % | {r['rate']:.0f} |"
        for name, r in results.items()
    )
    app = results["app consult room"]["growth"]
    write_section(
        "Soak: WebSocket connect/disconnect cycles (bench/soak_connections.py)",
        f"""
{cycles} cycles after a warm-up of at least {WARM_UP} cycles and {WARM_UP_SECONDS} s,
{CONCURRENCY} at a time, one daphne +
PostgreSQL + Redis. App cycle: connect with a session, `hello`, wait for `welcome`, close
(presence written and removed each time). RSS of the daphne process.

| path | RSS before (MiB) | RSS after each quarter (MiB) | growth | second half | cycles/s |
|---|---|---|---|---|---|
{rows}

"second half": growth from the RSS after 5,000 cycles to the RSS after all of them.
Budget RSS growth ≤ 5 %: {"met" if app <= 5 else "NOT met"}.
""",
    )


if __name__ == "__main__":
    main()
