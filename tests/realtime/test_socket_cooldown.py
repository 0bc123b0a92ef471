"""The cool-down after a 4429 (docs/signaling.md "Limits"): a socket opened by the same browser
session or from the same address within RATE_LIMIT_COOLDOWN_SECONDS is refused with
`rate_limited` and `retry_after`, then 4429, before any database work. Both consult sockets."""

import asyncio
import contextlib
import json
import time
from typing import Any

import pytest
import websockets
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from clinics.models import User
from telehealth.asgi import application
from tests.e2e.servers import Daphne
from tests.realtime.test_socket_guard import NOTES, ROOM, Kind, Sock
from tests.room.test_heartbeat import queries_in_the_database_thread

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=[ROOM, NOTES], ids=lambda k: k.name)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param  # type: ignore[no-any-return]


def _login(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


class Sockets:
    """Communicators through the whole ASGI stack, each from a given address."""

    def __init__(self, kind: Kind, consultation: Any) -> None:
        self.kind, self.consultation = kind, consultation
        self.opened: list[WebsocketCommunicator] = []

    async def open(self, session: str | None, address: str = "10.0.0.1") -> Sock:
        headers = [(b"origin", b"http://127.0.0.1")]
        if session is not None:
            headers.append((b"cookie", f"sessionid={session}".encode()))

        async def from_address(scope: Any, receive: Any, send: Any) -> Any:
            return await application({**scope, "client": [address, 50000]}, receive, send)

        path = f"/ws/consultations/{self.consultation.external_id}/{self.kind.suffix}"
        comm = WebsocketCommunicator(from_address, path, headers)
        self.opened.append(comm)
        connected, _ = await comm.connect(timeout=5)
        assert connected
        sock = Sock(comm, self.kind)
        if self.kind is ROOM:
            await sock.send({"type": "hello"})
        return sock

    async def flooded(self, session: str, address: str = "10.0.0.1") -> dict[str, Any]:
        """Open, join, flood to the 4429: the `rate_limited` frame."""
        sock = await self.open(session, address)
        await sock.expect(self.kind.joined)
        for _ in range(30):
            await sock.send(self.kind.probe)
        assert await sock.closed() == 4429
        return sock.frames[-1]

    async def refused(self, session: str | None, address: str = "10.0.0.1") -> dict[str, Any]:
        sock = await self.open(session, address)
        assert await sock.closed() == 4429
        assert len(sock.frames) == 1
        return sock.frames[0]

    async def joins(self, session: str | None, address: str = "10.0.0.1") -> None:
        sock = await self.open(session, address)
        await sock.expect(self.kind.joined)


@pytest.fixture
async def sockets(kind: Kind, consultation: Any, settings: Any) -> Any:
    setattr(settings, kind.burst_setting, 5)
    setattr(settings, kind.rate_setting, 1)
    made = Sockets(kind, consultation)
    yield made
    for comm in made.opened:
        await comm.disconnect()


@pytest.fixture
async def nurse(cast: Any) -> str:
    return await sync_to_async(_login)(cast.nurse)


@pytest.fixture
async def specialist(cast: Any) -> str:
    return await sync_to_async(_login)(cast.specialist)


async def test_the_flood_close_names_the_cool_down(sockets: Sockets, nurse: str) -> None:
    refusal = await sockets.flooded(nurse)
    assert refusal["code"] == "rate_limited"
    assert refusal["retry_after"] == 15


async def test_a_socket_opened_during_the_cool_down_is_refused_with_retry_after(
    sockets: Sockets, nurse: str
) -> None:
    await sockets.flooded(nurse)
    refusal = await sockets.refused(nurse)
    assert refusal["type"] == "error"
    assert refusal["code"] == "rate_limited"
    assert 1 <= refusal["retry_after"] <= 15
    assert refusal["seq"] == 1


async def test_the_refusal_runs_no_query(sockets: Sockets, nurse: str) -> None:
    await sockets.flooded(nurse)
    async with queries_in_the_database_thread() as seen:
        await sockets.refused(nurse)
    assert seen == []


async def test_the_same_session_is_held_from_another_address(sockets: Sockets, nurse: str) -> None:
    await sockets.flooded(nurse, "10.0.0.1")
    assert (await sockets.refused(nurse, "10.0.0.2"))["code"] == "rate_limited"


async def test_another_session_is_held_from_the_same_address(
    sockets: Sockets, nurse: str, specialist: str
) -> None:
    await sockets.flooded(nurse, "10.0.0.1")
    assert (await sockets.refused(specialist, "10.0.0.1"))["code"] == "rate_limited"


async def test_another_session_from_another_address_is_let_in(
    sockets: Sockets, nurse: str, specialist: str
) -> None:
    await sockets.flooded(nurse, "10.0.0.1")
    await sockets.joins(specialist, "10.0.0.2")


async def test_a_socket_is_let_in_once_the_cool_down_is_over(
    sockets: Sockets, nurse: str, settings: Any
) -> None:
    settings.RATE_LIMIT_COOLDOWN_SECONDS = 1
    await sockets.flooded(nurse)
    held_until = time.monotonic() + 1
    refusal = await sockets.refused(nurse)
    assert refusal["retry_after"] == 1
    await asyncio.sleep(max(0.0, held_until - time.monotonic()) + 0.05)  # the stated wait
    await sockets.joins(nurse)


async def test_no_cool_down_when_it_is_set_to_zero(
    sockets: Sockets, nurse: str, settings: Any
) -> None:
    settings.RATE_LIMIT_COOLDOWN_SECONDS = 0
    await sockets.flooded(nurse)
    await sockets.joins(nurse)


async def test_the_in_memory_layer_holds_the_cool_down_in_the_process(
    sockets: Sockets, nurse: str, settings: Any
) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    await sockets.flooded(nurse)
    refusal = await sockets.refused(nurse)
    assert 1 <= refusal["retry_after"] <= 15


@pytest.mark.e2e
@pytest.mark.redis
async def test_a_cool_down_started_on_one_daphne_holds_on_another(
    start_daphne: Any, cast: Any, consultation: Any, nurse: str
) -> None:
    """Two daphne processes on one Redis: the flood is cut off by the first, and the
    reconnect to the second is refused before it reads the session."""
    first, second = start_daphne("daphne-a"), start_daphne("daphne-b")
    path = f"/ws/consultations/{consultation.external_id}/"

    async def connect(server: Daphne) -> Any:
        return await websockets.connect(
            server.ws_url + path,
            additional_headers={"Origin": server.url, "Cookie": f"sessionid={nurse}"},
        )

    async def to_the_close(ws: Any) -> list[dict[str, Any]]:
        frames = []
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                frames.append(json.loads(await ws.recv()))
        return frames

    ws = await connect(first)
    await ws.send(json.dumps({"type": "hello"}))
    async with asyncio.timeout(5):
        while json.loads(await ws.recv())["type"] != "welcome":
            pass
        for _ in range(200):
            await ws.send(json.dumps({"type": "ping"}))
        frames = await to_the_close(ws)
    assert ws.close_code == 4429
    assert frames[-1]["retry_after"] == 15

    again = await connect(second)
    async with asyncio.timeout(5):
        frames = await to_the_close(again)
    assert again.close_code == 4429
    assert [(f["code"], f["seq"]) for f in frames] == [("rate_limited", 1)]
    assert 1 <= frames[0]["retry_after"] <= 15
