"""Room fixtures: WebSocket communicators on the real ASGI stack (Origin check, sessions)."""

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from clinics.models import User
from consults.models import Consultation
from telehealth.asgi import application
from tests.e2e.conftest import browser, daphne_server, login, screenshot, start_daphne

ORIGIN = b"http://127.0.0.1"

# The lead's e2e fixtures (real daphne, Chromium), for the room's end-to-end tests.
__all__ = ["browser", "daphne_server", "login", "screenshot", "start_daphne"]


@database_sync_to_async
def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


class Room:
    """A communicator that speaks the room protocol; collects frames it was not waiting for."""

    def __init__(self, comm: WebsocketCommunicator) -> None:
        self.comm = comm
        self.frames: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any]) -> None:
        await self.comm.send_to(text_data=json.dumps(frame))

    async def send_raw(self, text: str) -> None:
        await self.comm.send_to(text_data=text)

    async def recv(self, within: float = 3) -> dict[str, Any]:
        message = await self.comm.receive_output(within)
        if message["type"] == "websocket.close":
            raise AssertionError(f"closed with {message.get('code')}")
        return json.loads(message["text"])

    async def expect(self, type_: str, within: float = 3) -> dict[str, Any]:
        """The next frame of this type (frames of other types are kept in `frames`)."""
        while True:
            frame = await self.recv(within)
            if frame["type"] == type_:
                return frame
            self.frames.append(frame)

    async def closed(self, within: float = 3) -> int:
        """Wait for the server's close; returns its code (frames before it are kept)."""
        while True:
            message = await self.comm.receive_output(within)
            if message["type"] == "websocket.close":
                return int(message.get("code", 1000))
            self.frames.append(json.loads(message["text"]))

    async def got_no(self, *types: str, within: float = 0.3) -> bool:
        """True if no frame of these types arrives within `within` seconds (others are kept)."""
        while not await self.comm.receive_nothing(within):
            frame = await self.recv()
            if frame["type"] in types:
                return False
            self.frames.append(frame)
        return True


Opener = Callable[..., Awaitable[Room]]


@pytest.fixture
async def open_room() -> AsyncIterator[Opener]:
    """open_room(user, consult, hello=True) → a Room, already welcomed when hello=True."""
    opened: list[WebsocketCommunicator] = []

    async def open_(
        user: User | None,
        consult: Consultation | str,
        *,
        hello: bool | dict[str, Any] = True,
        origin: bytes | None = ORIGIN,
        path: str | None = None,
    ) -> Room:
        consult_id = consult if isinstance(consult, str) else str(consult.external_id)
        headers = []
        if origin is not None:
            headers.append((b"origin", origin))
        if user is not None:
            headers.append((b"cookie", f"sessionid={await session_cookie(user)}".encode()))
        comm = WebsocketCommunicator(
            application, path or f"/ws/consultations/{consult_id}/", headers=headers
        )
        opened.append(comm)
        connected, _ = await comm.connect()
        if not connected:
            raise ConnectionRefusedError
        room = Room(comm)
        if hello:
            await room.send({"type": "hello", **(hello if isinstance(hello, dict) else {})})
        return room

    yield open_
    for comm in opened:
        await comm.disconnect()
