"""Directed messages lost under connect/disconnect churn: channels-redis' own layer against
the project's (consults/realtime/layer.py), each behind its own daphne, same Redis.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/layer_churn.py

Workers open two sockets on the bare relay consumer (bench/room_asgi.py, /ws/floor/), relay
three frames each way, close both, and start again. Every close cancels that consumer's
`receive()`; when it is the one pulling messages from Redis for the whole process, a message
popped at that moment was lost by channels-redis 4.3.0. A frame not delivered within 3 s
counts as lost (and its pair is abandoned). No budget: the figure to hold is zero.
"""

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.room_common import Server, django_setup, write_section

STOCK = "channels_redis.core.RedisChannelLayer"
OURS = "consults.realtime.layer.RedisChannelLayer"
WORKERS = 4


async def _pair(server: Server, tally: dict[str, int]) -> None:
    from websockets.asyncio.client import connect

    a = await connect(f"{server.ws}/ws/floor/", origin=server.url)  # type: ignore[arg-type]
    b = await connect(f"{server.ws}/ws/floor/", origin=server.url)  # type: ignore[arg-type]
    try:
        me = {a: json.loads(await a.recv())["me"], b: json.loads(await b.recv())["me"]}
        for i in range(3):
            for sender, receiver in ((b, a), (a, b)):
                await sender.send(json.dumps({"to": me[receiver], "i": i}))
                tally["sent"] += 1
                try:
                    await asyncio.wait_for(receiver.recv(), 3)
                except TimeoutError:
                    tally["lost"] += 1
                    return
                tally["delivered"] += 1
    finally:
        await a.close()
        await b.close()
        tally["pairs"] += 1


async def _churn(server: Server, seconds: float) -> dict[str, int]:
    tally = {"pairs": 0, "sent": 0, "delivered": 0, "lost": 0}
    end = time.monotonic() + seconds

    async def worker() -> None:
        while time.monotonic() < end:
            await _pair(server, tally)

    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    return tally


def measure(backend: str, seconds: float) -> dict[str, Any]:
    os.environ["BENCH_LAYER_BACKEND"] = backend  # read by bench/settings.py in the daphne
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    server = Server()
    try:
        started = time.monotonic()
        tally = asyncio.run(_churn(server, seconds))
        tally["seconds"] = round(time.monotonic() - started)
    finally:
        server.stop()
    return tally


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()
    django_setup()
    load_before = os.getloadavg()[0]
    rows = []
    for name, backend in (("channels-redis 4.3.0, as shipped", STOCK), ("the project's", OURS)):
        tally = measure(backend, args.seconds)
        print(name, tally, flush=True)
        rate = tally["lost"] / tally["sent"] if tally["sent"] else 0.0
        rows.append(
            f"| {name} (`{backend}`) | {tally['seconds']} | {tally['pairs']} | {tally['sent']} "
            f"| {tally['lost']} | {rate * 1e6:.0f} |"
        )
    body = "\n".join(
        [
            f"{WORKERS} workers, each: two sockets on the bare relay consumer of one daphne,",
            "three frames each way, close, again. A frame not delivered within 3 s is lost.",
            f"Load average before the run: {load_before:.1f}.",
            "",
            "| layer | seconds | socket pairs | frames sent | lost | lost per million |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
    )
    write_section("Channel layer: messages lost under churn (bench/layer_churn.py)", body)


if __name__ == "__main__":
    main()
