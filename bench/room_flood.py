"""One room's flood must not slow another room: a fifth room's `ping` → `pong` round trip
before and during a four-connection flood in four other rooms, on one daphne + PostgreSQL +
Redis, against the F2 floor (a minimal Channels relay consumer on the same daphne, echoing
to itself) measured in the same run and under the same floods. Writes bench/RESULTS.md.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/room_flood.py \
        [--seconds 10] [--rate 20]

Stages: `quiet`; `at the limit` (each flooder sends pings just under the app's rate limit,
28/s, never cut off: 112 pings/s); `past the limit` (each flooder sends 1,000 pings at once,
is closed 4429, waits the `retry_after` of its `rate_limited` error, reconnects with `hello`
and does it again).
"""

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.room_common import Server, django_setup, prepare, summary, write_section
from bench.room_relay import connect

FLOODERS = 4
AT_LIMIT_RATE = 28.0  # under ROOM_RATE_PER_SECOND (30): never refused


async def app_socket(server: Server, consult: str, cookie: str) -> Any:
    ws = await connect(f"{server.ws}/ws/consultations/{consult}/", cookie)
    await ws.send(json.dumps({"type": "hello"}))
    while json.loads(await ws.recv())["type"] != "welcome":
        pass
    return ws


async def app_round_trip(ws: Any, n: int) -> float:
    started = time.perf_counter()
    await ws.send(json.dumps({"type": "ping", "t": n}))
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] == "pong" and frame["t"] == n:
            return (time.perf_counter() - started) * 1000


async def floor_socket(server: Server) -> tuple[Any, str]:
    ws = await connect(f"{server.ws}/ws/floor/", None)
    return ws, json.loads(await ws.recv())["me"]


async def floor_round_trip(floor: tuple[Any, str], n: int) -> float:
    ws, me = floor
    started = time.perf_counter()
    await ws.send(json.dumps({"to": me, "t": n}))
    while json.loads(await ws.recv()).get("t") != n:
        pass
    return (time.perf_counter() - started) * 1000


async def sample(
    probe: Callable[[int], Awaitable[float]], rate: float, seconds: float
) -> list[float]:
    out: list[float] = []
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
        out.append(await probe(n))
        await asyncio.sleep(1 / rate)
    return out


async def flood_at_limit(server: Server, consult: str, cookie: str, stop: asyncio.Event) -> int:
    ws = await app_socket(server, consult, cookie)
    sent = 0

    async def drain() -> None:
        with contextlib.suppress(Exception):
            async for _ in ws:
                pass

    reader = asyncio.ensure_future(drain())
    while not stop.is_set():
        await ws.send(json.dumps({"type": "ping"}))
        sent += 1
        await asyncio.sleep(1 / AT_LIMIT_RATE)
    await ws.close()
    await reader
    return sent


async def flood_past_limit(server: Server, consult: str, cookie: str, stop: asyncio.Event) -> int:
    """Flood to the 4429, wait the `retry_after` the server names (as the pages and the test
    client do), then again; a refusal during the cool-down is waited out the same way."""
    from websockets.exceptions import ConnectionClosed

    refused = 0
    ping = json.dumps({"type": "ping"})
    while not stop.is_set():
        ws = await connect(f"{server.ws}/ws/consultations/{consult}/", cookie)
        retry_after = 0.0
        with contextlib.suppress(ConnectionClosed):
            await ws.send(json.dumps({"type": "hello"}))
            async for text in ws:
                frame = json.loads(text)
                if frame["type"] == "welcome":
                    for _ in range(1000):
                        await ws.send(ping)
                elif frame["type"] == "error" and "retry_after" in frame:
                    retry_after = float(frame["retry_after"])
        refused += ws.close_code == 4429
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), retry_after)
    return refused


async def stage(
    flood: Callable[..., Awaitable[int]] | None,
    server: Server,
    consults: list[str],
    cookies: dict[str, str],
    probe: Callable[[int], Awaitable[float]],
    rate: float,
    seconds: float,
) -> tuple[dict[str, float], int]:
    stop = asyncio.Event()
    floods = [
        asyncio.ensure_future(flood(server, c, cookies["station"], stop))
        for c in (consults if flood else [])
    ]
    await asyncio.sleep(0.5 if flood else 0)  # the flood is under way before sampling starts
    values = await sample(probe, rate, seconds)
    stop.set()
    counts = await asyncio.gather(*floods)
    return summary(values), sum(counts)


async def run(
    server: Server, consults: list[str], cookies: dict[str, str], seconds: float, rate: float
) -> dict[str, Any]:
    fifth = await app_socket(server, consults[-1], cookies["specialist"])
    floor = await floor_socket(server)
    await app_round_trip(fifth, 0)

    async def heartbeat() -> None:
        # The fifth room stays a live peer while F2 is sampled (a silent one is closed 4408
        # after ROOM_PEER_TTL_SECONDS); its pongs are skipped by app_round_trip.
        while True:
            await asyncio.sleep(5)
            await fifth.send(json.dumps({"type": "ping", "t": -1}))

    beating = asyncio.ensure_future(heartbeat())

    async def app(n: int) -> float:
        return await app_round_trip(fifth, n)

    async def f2(n: int) -> float:
        return await floor_round_trip(floor, n)

    out: dict[str, Any] = {}
    for name, flood in (
        ("quiet", None),
        ("at the limit", flood_at_limit),
        ("past the limit", flood_past_limit),
    ):
        load = os.getloadavg()[0]
        f, _ = await stage(flood, server, consults[:FLOODERS], cookies, f2, rate, seconds)
        a, count = await stage(flood, server, consults[:FLOODERS], cookies, app, rate, seconds)
        out[name] = {"floor": f, "app": a, "count": count, "load": load}
        print(name, json.dumps(out[name]), flush=True)
    beating.cancel()
    await fifth.close()
    await floor[0].close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="probes per second")
    args = parser.parse_args()
    django_setup()
    consults, cookies = prepare(rooms=FLOODERS + 1)
    load_before = os.getloadavg()[0]
    server = Server()
    try:
        results = asyncio.run(run(server, consults, cookies, args.seconds, args.rate))
    finally:
        server.stop()
    rows = []
    for name, r in results.items():
        f, a = r["floor"], r["app"]
        what = {
            "quiet": "—",
            "at the limit": f"{r['count']} pings sent",
            "past the limit": f"{r['count']} closes 4429 (incl. cool-down refusals)",
        }[name]
        rows.append(
            f"| {name} | {r['load']:.1f} | {f['p50']:.2f} / {f['p99']:.2f} "
            f"| {a['p50']:.2f} / {a['p99']:.2f} | {a['p50'] / f['p50']:.2f}× | {a['n']} | {what} |"
        )
    quiet, worst = (
        results["quiet"]["app"],
        max(
            (results[s]["app"] for s in ("at the limit", "past the limit")), key=lambda x: x["p99"]
        ),
    )
    body = "\n".join(
        [
            "A fifth room's `ping` → `pong` round trip (ms) on one daphne + PostgreSQL + Redis,",
            f"{args.rate:g} probes/s for {args.seconds:g} s per stage, while {FLOODERS}",
            "connections in four other rooms flood: `at the limit` = each sends 28 pings/s",
            "(under the 30/s limit, never cut off); `past the limit` = each sends 1,000 pings",
            "at once, is closed 4429, waits the `retry_after` it is given (the cool-down), says",
            "`hello` again and repeats. F2 = the minimal Channels",
            "relay (bench/room_asgi.py) on the same daphne echoing to itself, measured under the",
            f"same flood just before the app. Load = 1-minute load average as the stage began "
            f"(before the run: {load_before:.1f}).",
            "",
            "| stage | load | F2 p50 / p99 | fifth room p50 / p99 | p50 ÷ F2 | probes | flood |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Fifth room's p99 quiet {quiet['p99']:.2f} ms, worst under a flood "
            f"{worst['p99']:.2f} ms.",
        ]
    )
    write_section("Room: one room's flood and another room's ping (bench/room_flood.py)", body)


if __name__ == "__main__":
    main()
