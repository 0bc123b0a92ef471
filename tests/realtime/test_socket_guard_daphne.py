"""The socket guard on a real daphne: frames queue there (in daphne's application queue)
while a consumer is busy, and daphne's own WebSocket limits apply (docs/signaling.md)."""

import asyncio
import json
import time
from typing import Any

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client

from clinics.models import User
from consults.room.models import RoomPeer
from tests import factories
from tests.e2e.servers import Daphne

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
async def _rooms_left_before_the_flush() -> Any:
    """After each test, wait until daphne has run every closed socket's leave: the database
    flush between tests (TRUNCATE) deadlocked with a leave still holding its room's lock."""
    yield
    count = sync_to_async(lambda: RoomPeer.objects.count())
    for _ in range(150):  # 15 s
        if not await count():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("daphne still holds room peers 15 s after the test")


def _cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


async def _connect(server: Daphne, user: User, path: str) -> Any:
    cookie = await sync_to_async(_cookie)(user)
    return await websockets.connect(
        server.ws_url + path,
        additional_headers={"Origin": server.url, "Cookie": cookie},
        max_size=None,
    )


async def _expect(ws: Any, type_: str, within: float = 5) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if frame["type"] == type_:
                return frame


async def _close_code(ws: Any, within: float = 5) -> tuple[int | None, list[str]]:
    """Read to the close: its code and the error codes that came before it."""
    errors: list[str] = []
    async with asyncio.timeout(within):
        try:
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "error":
                    errors.append(frame["code"])
        except websockets.ConnectionClosed as closed:
            return (closed.rcvd.code if closed.rcvd else None), errors


@pytest.mark.parametrize(
    ("suffix", "joined", "probe", "answer", "limit"),
    [
        ("", "welcome", {"type": "ping", "t": 1}, "pong", "ROOM_MAX_FRAME_BYTES"),
        ("notes/", "notes.state", {"type": "notes.sync"}, "notes.state", "NOTES_MAX_FRAME_BYTES"),
    ],
    ids=["room", "notes"],
)
async def test_a_frame_over_the_apps_limit_is_refused_and_the_socket_stays_open(
    daphne_server: Daphne,
    cast: Any,
    consultation: Any,
    suffix: str,
    joined: str,
    probe: dict[str, Any],
    answer: str,
    limit: str,
) -> None:
    ws = await _connect(
        daphne_server, cast.nurse, f"/ws/consultations/{consultation.external_id}/{suffix}"
    )
    try:
        if not suffix:
            await ws.send(json.dumps({"type": "hello"}))
        await _expect(ws, joined)
        await ws.send(json.dumps(probe) + " " * getattr(settings, limit))
        assert (await _expect(ws, "error"))["code"] == "frame_too_large"
        await ws.send(json.dumps(probe))
        await _expect(ws, answer)
    finally:
        await ws.close()


async def test_an_oversized_frame_leaves_a_normal_peer_and_above_daphnes_ceiling_no_ghost(
    daphne_server: Daphne, cast: Any, consultation: Any
) -> None:
    path = f"/ws/consultations/{consultation.external_id}/"
    nurse = await _connect(daphne_server, cast.nurse, path)
    specialist = await _connect(daphne_server, cast.specialist, path)
    try:
        await nurse.send(json.dumps({"type": "hello"}))
        await _expect(nurse, "welcome")
        await specialist.send(json.dumps({"type": "hello"}))
        await _expect(specialist, "welcome")
        await nurse.send(json.dumps({"type": "ping"}) + " " * (settings.ROOM_MAX_FRAME_BYTES + 1))
        assert (await _expect(nurse, "error"))["code"] == "frame_too_large"
        assert await specialist.ping()  # still a call: nobody left
        # Above daphne's own limit the connection is failed (1009) before the app sees the
        # frame; the app still hears the disconnect: the peer leaves at once, no ghost.
        started = time.monotonic()
        await nurse.send(" " * (settings.WEBSOCKET_MAX_MESSAGE_BYTES + 1))
        code, _ = await _close_code(nurse)
        # autobahn fails the connection: it sends 1009 and drops TCP, often before a
        # client still sending has read that close frame.
        assert code in (1009, None)
        left = await _expect(specialist, "peer_left")
        assert left["reason"] == "dropped"
        assert time.monotonic() - started < 3
    finally:
        await nurse.close()
        await specialist.close()


async def test_four_sockets_flooding_at_once_are_each_closed_4429_within_two_seconds(
    daphne_server: Daphne, cast: Any
) -> None:
    consults = await sync_to_async(
        lambda: [
            factories.make_consultation(
                patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital
            )
            for _ in range(4)
        ]
    )()
    sockets = [
        await _connect(daphne_server, cast.nurse, f"/ws/consultations/{c.external_id}/")
        for c in consults
    ]
    try:
        for ws in sockets:
            await ws.send(json.dumps({"type": "hello"}))
            await _expect(ws, "welcome")
        ping = json.dumps({"type": "ping", "t": 1})
        started = time.monotonic()

        async def flood(ws: Any) -> tuple[int | None, list[str], float]:
            for _ in range(1000):
                await ws.send(ping)
            code, errors = await _close_code(ws, within=5)
            return code, errors, time.monotonic() - started

        results = await asyncio.gather(*(flood(ws) for ws in sockets))
    finally:
        for ws in sockets:
            await ws.close()
    for code, errors, elapsed in results:
        assert code == 4429
        assert errors[-1] == "rate_limited"
        assert elapsed < 2, f"closed after {elapsed:.2f} s"
