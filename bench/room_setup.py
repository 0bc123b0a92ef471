"""Call setup time: two aiortc peers through the app's room on loopback, from the second
peer opening its socket to the first decoded video frame at both ends; against F2's (the
same two peers signaling through a minimal Channels relay on the same daphne + Redis).

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/room_setup.py

Budget (DESIGN.md): median ≤ 250 ms (and ≤ 3 × F2's).
"""

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.room_common import Server, django_setup, prepare, write_section

RUNS = 12


def loopback_only() -> None:
    import aioice.ice

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


async def app_setup(server: Server, consult: str, cookies: dict[str, str]) -> float:
    from tests.support.rtc_client import RoomClient

    station = RoomClient(server.url, consult, username="", password="", luminance=200)
    specialist = RoomClient(server.url, consult, username="", password="", luminance=60)
    tickets = []
    for cookie in (cookies["station"], cookies["specialist"]):
        tickets.append(await asyncio.to_thread(_ticket, server, consult, cookie))
    try:
        await station.join(ticket=tickets[0])
        t0 = time.perf_counter()
        await specialist.join(ticket=tickets[1])
        a = await station.wait_frames(1)
        b = await specialist.wait_frames(1)
        return (max(a.first_frame_at or 0, b.first_frame_at or 0) - t0) * 1000
    finally:
        await station.close()
        await specialist.close()


def _ticket(server: Server, consult: str, cookie: str) -> str:
    import urllib.request

    csrf = "benchcsrf0123456789abcdefghijklm"
    request = urllib.request.Request(  # noqa: S310
        f"{server.url}/api/v1/consultations/{consult}/room-ticket/",
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Cookie": f"{cookie}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Referer": server.url + "/",
            "Origin": server.url,
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return str(json.loads(response.read())["ticket"])


async def _recv(ws: Any) -> dict[str, Any]:
    """The next frame, or TimeoutError: a relayed frame the layer lost must not hang the run."""
    return dict(json.loads(await asyncio.wait_for(ws.recv(), 10)))


async def floor_setup(server: Server) -> float:
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import AudioStreamTrack
    from websockets.asyncio.client import connect

    from tests.support.rtc_media import FlatVideoTrack

    first: dict[str, float] = {}
    both = asyncio.Event()

    def peer(name: str) -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(FlatVideoTrack(100))
        pc.addTrack(AudioStreamTrack())

        @pc.on("track")
        def _track(track: Any) -> None:
            async def consume() -> None:
                await track.recv()
                first.setdefault(name, time.perf_counter())
                if len(first) == 2:
                    both.set()

            if track.kind == "video":
                asyncio.ensure_future(consume())  # noqa: RUF006

        return pc

    origin = server.url
    a_ws = await connect(f"{server.ws}/ws/floor/", origin=origin)  # type: ignore[arg-type]
    a_me = (await _recv(a_ws))["me"]
    a, b = peer("a"), peer("b")
    t0 = time.perf_counter()
    b_ws = await connect(f"{server.ws}/ws/floor/", origin=origin)  # type: ignore[arg-type]
    b_me = (await _recv(b_ws))["me"]
    await b_ws.send(json.dumps({"to": a_me, "type": "joined", "peer": b_me}))
    joined = await _recv(a_ws)
    await a.setLocalDescription(await a.createOffer())
    await a_ws.send(
        json.dumps({"to": joined["peer"], "type": "offer", "sdp": a.localDescription.sdp})
    )
    offer = await _recv(b_ws)
    await b.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
    await b.setLocalDescription(await b.createAnswer())
    await b_ws.send(json.dumps({"to": a_me, "type": "answer", "sdp": b.localDescription.sdp}))
    answer = await _recv(a_ws)
    await a.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    await asyncio.wait_for(both.wait(), 20)
    took = (max(first.values()) - t0) * 1000
    await a.close()
    await b.close()
    await a_ws.close()
    await b_ws.close()
    return took


async def run(server: Server, consults: list[str], cookies: dict[str, str]) -> dict[str, Any]:
    floor: list[float] = []
    app: list[float] = []
    lost = {"floor": 0, "app": 0}
    for consult in consults:
        for path, runs, setup in (
            ("floor", floor, lambda: floor_setup(server)),
            ("app", app, lambda c=consult: app_setup(server, c, cookies)),
        ):
            for _ in range(3):
                try:
                    runs.append(await asyncio.wait_for(setup(), 30))
                    break
                except TimeoutError:  # a frame lost by the layer: count it, run again
                    lost[path] += 1
    return {"floor": floor, "app": app, "lost": lost}


def main() -> None:
    django_setup()
    loopback_only()
    consults, cookies = prepare(rooms=RUNS)
    server = Server()
    try:
        results = asyncio.run(run(server, consults, cookies))
    finally:
        server.stop()
    f, a = statistics.median(results["floor"]), statistics.median(results["app"])
    print("floor", results["floor"], "app", results["app"])
    body = "\n".join(
        [
            "Two aiortc peers (320x240 VP8 + audio) on loopback, one daphne + Redis: from the",
            "second peer opening its socket to the first decoded video frame at both ends.",
            "App: hello with a room ticket, welcome/peer_joined, offer/answer through the room.",
            "F2: the same peers signaling through the minimal relay (bench/room_asgi.py).",
            "",
            "| path | median ms | min | max | runs |",
            "|---|---|---|---|---|",
            f"| F2 minimal relay | {f:.0f} | {min(results['floor']):.0f} "
            f"| {max(results['floor']):.0f} | {len(results['floor'])} |",
            f"| app room | {a:.0f} | {min(results['app']):.0f} "
            f"| {max(results['app']):.0f} | {len(results['app'])} |",
            "",
            f"Runs lost to a frame the channel layer never delivered (re-run, 10 s timeout): "
            f"F2 {results['lost']['floor']}, app {results['lost']['app']}.",
            f"Ratio app ÷ F2: {a / f:.2f}×. Budget median ≤ 250 ms and ≤ 3 × F2: "
            f"{'met' if a <= 250 and a <= 3 * f else 'NOT met'}.",
        ]
    )
    write_section("Room: call setup time (bench/room_setup.py)", body)


if __name__ == "__main__":
    main()
