"""Signaling relay latency A → server → B: the app's room vs the F2 floor (a minimal Channels
relay consumer on the same daphne + Redis), with 1 room and with 200 rooms (400 sockets).

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/room_relay.py

Budget (DESIGN.md): relay p50 ≤ 1.5 × F2's; p99 ≤ 10 ms with 200 rooms active.
"""

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.room_common import Server, django_setup, prepare, summary, write_section

# Offers per second per room (the app allows 30/s). 200 rooms × 0.5/s = 100 frames/s through
# one daphne, already more than 400 sockets' steady state (a ping every 10 s = 40/s).
RATE_PER_ROOM = {1: 25.0, 200: 0.5}
SECONDS = {1: 20.0, 200: 20.0}


async def connect(url: str, cookie: str | None) -> Any:
    from websockets.asyncio.client import connect as ws_connect

    headers = {"Cookie": cookie} if cookie else None
    origin = url.replace("ws://", "http://").split("/ws/")[0]
    return await ws_connect(url, origin=origin, additional_headers=headers, max_size=2**20)  # type: ignore[arg-type]


async def app_pair(server: Server, consult: str, cookies: dict[str, str]) -> tuple[Any, Any, str]:
    url = f"{server.ws}/ws/consultations/{consult}/"
    a = await connect(url, cookies["station"])
    await a.send(json.dumps({"type": "hello"}))
    while json.loads(await a.recv())["type"] != "welcome":
        pass
    b = await connect(url, cookies["specialist"])
    await b.send(json.dumps({"type": "hello"}))
    welcome = json.loads(await b.recv())
    target = welcome["peer"]
    return a, b, target


async def floor_pair(server: Server) -> tuple[Any, Any, str]:
    a = await connect(f"{server.ws}/ws/floor/", None)
    b = await connect(f"{server.ws}/ws/floor/", None)
    await a.recv()
    target = json.loads(await b.recv())["me"]
    return a, b, target


async def measure(pairs: list[tuple[Any, Any, str]], rate: float, seconds: float) -> list[float]:
    latencies: list[float] = []
    sent: dict[str, float] = {}

    async def reader(ws: Any) -> None:
        async for text in ws:
            frame = json.loads(text)
            if frame.get("type") == "offer" and frame["sdp"] in sent:
                latencies.append((time.perf_counter() - sent.pop(frame["sdp"])) * 1000)

    async def writer(index: int, ws: Any, target: str) -> None:
        await asyncio.sleep(index / len(pairs) / rate)  # spread the rooms over the period
        n = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            n += 1
            key = f"v=0 {index}-{n}"
            sent[key] = time.perf_counter()
            await ws.send(json.dumps({"type": "offer", "to": target, "sdp": key}))
            await asyncio.sleep(1 / rate)

    readers = [asyncio.ensure_future(reader(b)) for _, b, _ in pairs]
    await asyncio.gather(*(writer(i, a, t) for i, (a, _, t) in enumerate(pairs)))
    await asyncio.sleep(0.5)
    for task in readers:
        task.cancel()
    for a, b, _ in pairs:
        await a.close()
        await b.close()
    return latencies


async def run(server: Server, consults: list[str], cookies: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rooms in (1, 200):
        floor = [await floor_pair(server) for _ in range(rooms)]
        out[f"floor-{rooms}"] = summary(await measure(floor, RATE_PER_ROOM[rooms], SECONDS[rooms]))
        app = [await app_pair(server, c, cookies) for c in consults[:rooms]]
        out[f"app-{rooms}"] = summary(await measure(app, RATE_PER_ROOM[rooms], SECONDS[rooms]))
        consults = consults[rooms:]
    return out


def main() -> None:
    django_setup()
    consults, cookies = prepare(rooms=201)
    server = Server()
    try:
        results = asyncio.run(run(server, consults, cookies))
    finally:
        server.stop()
    rows = []
    for rooms in (1, 200):
        f, a = results[f"floor-{rooms}"], results[f"app-{rooms}"]
        rows.append(
            f"| {rooms} ({2 * rooms} sockets, {RATE_PER_ROOM[rooms]:g} msg/s/room) "
            f"| {f['p50']:.2f} / {f['p99']:.2f} | {a['p50']:.2f} / {a['p99']:.2f} "
            f"| {a['p50'] / f['p50']:.2f}× | {a['n']} |"
        )
        print(rooms, "floor", f, "app", a)
    ok_ratio = results["app-1"]["p50"] <= 1.5 * results["floor-1"]["p50"]
    ok_p99 = results["app-200"]["p99"] <= 10
    body = "\n".join(
        [
            "Signaling relay A → daphne → Redis → daphne → B, one daphne process, loopback.",
            "F2 = a minimal Channels relay consumer (bench/room_asgi.py) on the same daphne +",
            "Redis, measured in the same run. Latencies in ms (client send → peer receive).",
            "",
            "| rooms | F2 p50 / p99 | app p50 / p99 | app p50 ÷ F2 p50 | samples |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"Budget p50 ≤ 1.5 × F2 (1 room): {'met' if ok_ratio else 'NOT met'}. "
            f"Budget p99 ≤ 10 ms with 200 rooms: {'met' if ok_p99 else 'NOT met'}.",
        ]
    )
    write_section("Room: signaling relay latency (bench/room_relay.py)", body)


if __name__ == "__main__":
    main()
