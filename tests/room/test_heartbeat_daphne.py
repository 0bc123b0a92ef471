"""The heartbeat across two real daphne processes sharing the database and Redis: the
process holding a silent peer sweeps it and the other process's peer hears `timeout`; a
killed process's peer is swept by the other through the database TTL."""

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.test import Client

from clinics.models import User
from tests.e2e.servers import Daphne

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
TTL = 2
HEARTBEAT = {"ROOM_PEER_TTL_SECONDS": str(TTL), "ROOM_HEARTBEAT_SECONDS": "1"}


def _cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


async def _join(server: Daphne, user: User, consultation: Any) -> tuple[Any, dict[str, Any]]:
    cookie = await sync_to_async(_cookie)(user)
    ws = await websockets.connect(
        f"{server.ws_url}/ws/consultations/{consultation.external_id}/",
        additional_headers={"Origin": server.url, "Cookie": cookie},
    )
    await ws.send(json.dumps({"type": "hello"}))
    return ws, await _expect(ws, "welcome")


async def _expect(ws: Any, type_: str, within: float = 5) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if frame["type"] == type_:
                return frame


class Live:
    """A client that pings every 0.25 s and resyncs on a newer `rev`, as the pages do."""

    def __init__(self, ws: Any, welcome: dict[str, Any]) -> None:
        self.ws, self.rev = ws, welcome["rev"]
        self.task = asyncio.ensure_future(self._ping())

    async def _ping(self) -> None:
        while True:
            await self.ws.send(json.dumps({"type": "ping"}))
            await asyncio.sleep(0.25)

    async def expect(self, type_: str, within: float) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                frame: dict[str, Any] = json.loads(await self.ws.recv())
                if frame["type"] in ("peer_joined", "peer_left", "room"):
                    self.rev = max(self.rev, frame["rev"])
                elif frame["type"] == "pong" and frame["rev"] > self.rev:
                    await self.ws.send(json.dumps({"type": "resync"}))
                if frame["type"] == type_:
                    return frame

    async def close(self) -> None:
        self.task.cancel()
        await self.ws.close()


async def test_a_silent_peer_on_one_process_is_swept_and_the_other_process_hears_timeout(
    start_daphne: Callable[..., Daphne], cast: Any, consultation: Any
) -> None:
    a, b = start_daphne("heartbeat-a", **HEARTBEAT), start_daphne("heartbeat-b", **HEARTBEAT)
    silent, s = await _join(a, cast.nurse, consultation)
    silent_since = time.monotonic()
    live = Live(*await _join(b, cast.specialist, consultation))
    try:
        left = await live.expect("peer_left", within=TTL + 5)
        assert (left["peer"], left["reason"]) == (s["peer"], "timeout")
        assert time.monotonic() - silent_since < TTL + 5
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _expect(silent, "never", within=2)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4408

        back, again = await _join(a, cast.nurse, consultation)
        assert (await live.expect("peer_joined", within=3))["peer"] == again["peer"]
        await back.close()
    finally:
        await silent.close()
        await live.close()


async def test_a_killed_processs_peer_is_swept_by_the_other_process(
    start_daphne: Callable[..., Daphne], cast: Any, consultation: Any
) -> None:
    a, b = start_daphne("heartbeat-kill-a", **HEARTBEAT), start_daphne("heartbeat-b", **HEARTBEAT)
    ws, s = await _join(a, cast.nurse, consultation)
    station = Live(ws, s)  # alive until its process dies
    live = Live(*await _join(b, cast.specialist, consultation))
    try:
        a.stop(kill=True)  # no disconnect runs: the row stays until its TTL passes
        killed_at = time.monotonic()
        station.task.cancel()
        left = await live.expect("peer_left", within=TTL + 5)
        assert (left["peer"], left["reason"]) == (s["peer"], "timeout")
        assert time.monotonic() - killed_at < TTL + 5
    finally:
        station.task.cancel()
        await live.close()
