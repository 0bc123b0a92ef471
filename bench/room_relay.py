"""Signaling relay latency A → daphne → Redis → daphne → B through TWO daphne processes (the
two peers of every room on different processes), the app's room against two floors measured
in the same run: F2, a minimal Channels relay consumer on the same daphnes + Redis, and F1,
the same hops without Channels (bench/relay_f1.py: a bare `websockets` server on each of two
processes relaying through Redis pub/sub), for a sweep of concurrent rooms. Writes
bench/RESULTS.md and the plot bench/relay_latency.png.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/room_relay.py \
        [--rooms 1,50,100,200] [--seconds 15] [--no-plot]

Budget (DESIGN.md): relay p50 ≤ 1.5 × F2's and ≤ 2 × F1's; p99 ≤ 10 ms with 200 rooms (400
sockets) active.
The plot needs matplotlib (bench/requirements.txt).
"""

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.room_common import (
    ROOT,
    Server,
    django_setup,
    free_port,
    prepare,
    summary,
    write_section,
)

# The whole run offers TOTAL_RATE offers a second (at most MAX_ROOM_RATE per room, under the
# app's limit of 30/s): 200 rooms × 0.5/s = 100 frames/s, more than 400 sockets' steady
# state (a ping every 10 s = 40/s). So the stages differ by how many rooms are live, not by
# how much is relayed (except 1 room, which cannot carry 100/s alone).
TOTAL_RATE = 100.0
MAX_ROOM_RATE = 25.0
PLOT = ROOT / "bench" / "relay_latency.png"
HANDSHAKE_RETRIES = [0]


def rate_for(rooms: int) -> float:
    return min(MAX_ROOM_RATE, TOTAL_RATE / rooms)


@dataclass
class Stage:
    latencies: list[float] = field(default_factory=list)
    sent: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = summary(self.latencies) if self.latencies else {"n": 0}
        out |= {"sent": self.sent, "lost": self.sent - len(self.latencies)}
        out["errors"] = dict(self.errors)
        return out


async def connect(url: str, cookie: str | None) -> Any:
    from websockets.asyncio.client import connect as ws_connect
    from websockets.exceptions import InvalidMessage

    headers = {"Cookie": cookie} if cookie else None
    origin = url.replace("ws://", "http://").split("/ws/")[0]
    for attempt in range(3):  # a loaded daphne sometimes drops a handshake: retry, count it
        try:
            return await ws_connect(url, origin=origin, additional_headers=headers, max_size=2**20)  # type: ignore[arg-type]
        except (InvalidMessage, OSError):
            if attempt == 2:
                raise
            HANDSHAKE_RETRIES[0] += 1
            await asyncio.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


KEEPALIVE: set[asyncio.Task[None]] = set()


def keep_alive(ws: Any) -> None:
    """Ping every heartbeat, as the room page does: the server removes a socket silent
    for ROOM_PEER_TTL_SECONDS (4408), and a receiving peer sends nothing else."""
    from websockets.exceptions import ConnectionClosed

    async def beat() -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(10)
                await ws.send(json.dumps({"type": "ping"}))

    task = asyncio.ensure_future(beat())
    KEEPALIVE.add(task)
    task.add_done_callback(KEEPALIVE.discard)


async def app_pair(
    a_server: Server, b_server: Server, consult: str, cookies: dict[str, str]
) -> tuple[Any, Any, str]:
    """The station on one process, the specialist on the other; returns (a, b, b's peer)."""
    path = f"/ws/consultations/{consult}/"
    a = await connect(a_server.ws + path, cookies["station"])
    await a.send(json.dumps({"type": "hello"}))
    while json.loads(await a.recv())["type"] != "welcome":
        pass
    keep_alive(a)
    b = await connect(b_server.ws + path, cookies["specialist"])
    await b.send(json.dumps({"type": "hello"}))
    welcome = json.loads(await b.recv())
    keep_alive(b)
    # a must know b before it addresses it: wait for its peer_joined (sent through Redis).
    while json.loads(await a.recv())["type"] != "peer_joined":
        pass
    return a, b, welcome["peer"]


class BareRelay:
    """One F1 process (bench/relay_f1.py) on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.ws = f"ws://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "relay_f1.py"), str(self.port)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("bench/relay_f1.py did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def floor_pair(
    a_server: Server | BareRelay, b_server: Server | BareRelay, path: str = "/ws/floor/"
) -> tuple[Any, Any, str]:
    """A pair on a floor relay (F2 at /ws/floor/, F1 at /): both say `{"me": id}` first."""
    a = await connect(f"{a_server.ws}{path}", None)
    b = await connect(f"{b_server.ws}{path}", None)
    await a.recv()
    target = json.loads(await b.recv())["me"]
    return a, b, target


async def measure(pairs: list[tuple[Any, Any, str]], rate: float, seconds: float) -> Stage:
    from websockets.exceptions import ConnectionClosed

    stage = Stage()
    sent_at: dict[str, float] = {}
    drained = asyncio.Event()

    async def reader(ws: Any) -> None:
        try:
            async for text in ws:
                frame = json.loads(text)
                kind = frame.get("type")
                if kind == "offer" and frame["sdp"] in sent_at:
                    took = time.perf_counter() - sent_at.pop(frame["sdp"])
                    stage.latencies.append(took * 1000)
                    if not sent_at:
                        drained.set()
                elif kind in ("error", "resync"):
                    stage.error(frame.get("code") or kind)
        except ConnectionClosed as closed:
            stage.error(f"closed {closed.rcvd.code if closed.rcvd else 'abnormally'}")

    async def writer(index: int, ws: Any, target: str) -> None:
        await asyncio.sleep(index / len(pairs) / rate)  # spread the rooms over the period
        n = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            n += 1
            key = f"v=0 {index}-{n}"
            sent_at[key] = time.perf_counter()
            stage.sent += 1
            await ws.send(json.dumps({"type": "offer", "to": target, "sdp": key}))
            await asyncio.sleep(1 / rate)

    readers = [asyncio.ensure_future(reader(ws)) for a, b, _ in pairs for ws in (a, b)]
    await asyncio.gather(*(writer(i, a, t) for i, (a, _, t) in enumerate(pairs)))
    if sent_at:  # the last frames in flight
        drained.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(drained.wait(), 5)
    for a, b, _ in pairs:
        await a.close()
        await b.close()
    await asyncio.gather(*readers)
    return stage


async def run(
    servers: tuple[Server, Server],
    bare: tuple[BareRelay, BareRelay],
    consults: list[str],
    cookies: dict[str, str],
    sweep: list[int],
    seconds: float,
) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for rooms in sweep:
        load = os.getloadavg()[0]
        f1 = [await floor_pair(*bare, path="/") for _ in range(rooms)]
        b = (await measure(f1, rate_for(rooms), seconds)).report()
        floor = [await floor_pair(*servers) for _ in range(rooms)]
        f = (await measure(floor, rate_for(rooms), seconds)).report()
        app = [await app_pair(*servers, c, cookies) for c in consults[:rooms]]
        a = (await measure(app, rate_for(rooms), seconds)).report()
        consults = consults[rooms:]
        out[rooms] = {"bare": b, "floor": f, "app": a, "load": load}
        print(rooms, json.dumps(out[rooms]), flush=True)
    return out


def plot(results: dict[int, dict[str, Any]], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rooms = sorted(results)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    labels = {"bare": "F1 bare relay", "floor": "F2 minimal relay", "app": "app room"}
    for path, colour in (("bare", "tab:green"), ("floor", "tab:gray"), ("app", "tab:blue")):
        label = labels[path]
        for stat, style in (("p50", "-o"), ("p99", "--s")):
            ys = [results[r][path].get(stat, float("nan")) for r in rooms]
            ax.plot(rooms, ys, style, color=colour, label=f"{label} {stat}")
    ax.axhline(10, color="tab:red", linewidth=1, label="budget p99 (200 rooms)")
    ax.set_yscale("log")
    ax.set_xlabel("concurrent rooms (2 sockets each, on 2 daphne processes)")
    ax.set_ylabel("relay latency A → B (ms)")
    ax.set_xticks(rooms)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(PLOT)
    plt.close(fig)


def _errors(r: dict[str, Any]) -> str:
    parts = [f"{n} {code}" for code, n in sorted(r["errors"].items())]
    return ", ".join(parts) or "0"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", default="1,50,100,200")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args()
    sweep = [int(n) for n in args.rooms.split(",")]
    django_setup()
    consults, cookies = prepare(rooms=sum(sweep))
    load_before = os.getloadavg()
    servers = (Server(), Server())
    bare = (BareRelay(), BareRelay())
    try:
        results = asyncio.run(run(servers, bare, consults, cookies, sweep, args.seconds))
    finally:
        for server in (*servers, *bare):
            server.stop()
    rows = []
    for rooms in sweep:
        b, f, a = (results[rooms][k] for k in ("bare", "floor", "app"))
        rows.append(
            f"| {rooms} | {2 * rooms} | {rate_for(rooms):g} | {results[rooms]['load']:.1f} "
            f"| {b['p50']:.2f} / {b['p99']:.2f} "
            f"| {f['p50']:.2f} / {f['p99']:.2f} | {a['p50']:.2f} / {a['p99']:.2f} "
            f"| {a['p50'] / b['p50']:.2f}× | {a['p50'] / f['p50']:.2f}× "
            f"| {a['n']} / {a['sent']} | {_errors(a)} | {f['n']} / {f['sent']} "
            f"| {b['n']} / {b['sent']} |"
        )
    ratios = {r: results[r]["app"]["p50"] / results[r]["floor"]["p50"] for r in sweep}
    ok_ratio = all(v <= 1.5 for v in ratios.values())
    bare_ratios = {r: results[r]["app"]["p50"] / results[r]["bare"]["p50"] for r in sweep}
    ok_bare = all(v <= 2 for v in bare_ratios.values())
    top = max(sweep)
    p99_line = (
        f"Budget p99 ≤ 10 ms with 200 rooms: "
        f"{'met' if results[200]['app']['p99'] <= 10 else 'NOT met'}."
        if 200 in results
        else f"(200 rooms not in this sweep; largest {top}.)"
    )
    body = "\n".join(
        [
            "Signaling relay A → daphne 1 → Redis → daphne 2 → B: the two peers of every room",
            "on different daphne processes (one Redis), loopback. F2 = a minimal Channels relay",
            "consumer (bench/room_asgi.py) on the same two daphnes + Redis; F1 = the same hops",
            "without Channels (bench/relay_f1.py: a bare `websockets` server in each of two",
            "processes, Redis pub/sub); both measured in the same run just before the app at",
            "each size. Latency = client send → peer receive",
            f"(ms); {args.seconds:g} s per stage; load = 1-minute load average as the stage "
            f"began (before the run: {load_before[0]:.1f}).",
            "",
            "| rooms | sockets | offers/s/room | load | F1 p50 / p99 | F2 p50 / p99 "
            "| app p50 / p99 | app ÷ F1 p50 | app ÷ F2 p50 | app received / sent | app errors "
            "| F2 received / sent | F1 received / sent |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Budget p50 ≤ 2 × F1 at every size: {'met' if ok_bare else 'NOT met'} "
            f"(ratios {', '.join(f'{r}: {v:.2f}×' for r, v in bare_ratios.items())}). "
            f"Budget p50 ≤ 1.5 × F2 at every size: {'met' if ok_ratio else 'NOT met'} "
            f"(ratios {', '.join(f'{r}: {v:.2f}×' for r, v in ratios.items())}). {p99_line}",
            f"WebSocket handshakes retried (dropped by a loaded daphne): {HANDSHAKE_RETRIES[0]}.",
            "",
            "![relay latency vs rooms](relay_latency.png)",
        ]
    )
    write_section("Room: signaling relay latency (bench/room_relay.py)", body)
    if not args.no_plot:
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        plot(results, f"Signaling relay, 2 daphne + Redis, {stamp}, load {load_before[0]:.1f}")


if __name__ == "__main__":
    main()
