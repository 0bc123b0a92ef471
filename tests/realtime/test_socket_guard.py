"""One table for both consult sockets: the same fault gets the same code (docs/signaling.md).

Every case runs against the room (/ws/consultations/<id>/) and the notes socket
(/ws/consultations/<id>/notes/), through the real ASGI stack (origin check, sessions).
"""

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from clinics.models import User
from telehealth.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True)
class Kind:
    """What differs between the two sockets: the path, how to join, a frame that gets a reply."""

    name: str
    suffix: str
    joined: str  # the first frame of a welcome
    probe: dict[str, Any]  # answered by `answer`
    answer: str
    limit_setting: str
    burst_setting: str
    rate_setting: str


ROOM = Kind(
    "room", "", "welcome", {"type": "ping", "t": 1}, "pong",
    "ROOM_MAX_FRAME_BYTES", "ROOM_RATE_BURST", "ROOM_RATE_PER_SECOND",
)  # fmt: skip
NOTES = Kind(
    "notes", "notes/", "notes.state", {"type": "notes.sync"}, "notes.state",
    "NOTES_MAX_FRAME_BYTES", "NOTES_RATE_BURST", "NOTES_RATE_PER_SECOND",
)  # fmt: skip


@dataclass
class Sock:
    comm: WebsocketCommunicator
    kind: Kind
    frames: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.comm.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))

    async def next(self, within: float = 3) -> dict[str, Any] | int:
        """The next frame, or the close code if the server closed."""
        message = await self.comm.receive_output(within)
        if message["type"] == "websocket.close":
            return int(message.get("code", 1000))
        frame: dict[str, Any] = json.loads(message["text"])
        self.frames.append(frame)
        return frame

    async def expect(self, type_: str) -> dict[str, Any]:
        while True:
            got = await self.next()
            assert not isinstance(got, int), f"closed with {got} waiting for {type_}"
            if got["type"] == type_:
                return got

    async def closed(self) -> int:
        while True:
            got = await self.next()
            if isinstance(got, int):
                return got


@database_sync_to_async
def _cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


Open = Callable[..., Awaitable[Sock]]


@pytest.fixture(params=[ROOM, NOTES], ids=lambda k: k.name)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def open_socket(kind: Kind) -> AsyncIterator[Open]:
    opened: list[WebsocketCommunicator] = []

    async def open_(user: User | None, consult_id: Any) -> Sock:
        headers = [(b"origin", b"http://127.0.0.1")]
        if user is not None:
            headers.append((b"cookie", f"sessionid={await _cookie(user)}".encode()))
        comm = WebsocketCommunicator(
            application, f"/ws/consultations/{consult_id}/{kind.suffix}", headers
        )
        opened.append(comm)
        connected, _ = await comm.connect(timeout=5)
        assert connected
        sock = Sock(comm, kind)
        if kind is ROOM:
            await sock.send({"type": "hello"})
        return sock

    yield open_
    for comm in opened:
        await comm.disconnect()


async def joined(open_socket: Open, cast: Any, consultation: Any) -> Sock:
    sock = await open_socket(cast.nurse, consultation.external_id)
    await sock.expect(sock.kind.joined)
    sock.frames.clear()
    return sock


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "malformed"),
        ("[1, 2]", "malformed"),
        ({"type": "nonsense"}, "unknown_type"),
    ],
)
async def test_a_bad_frame_gets_the_same_code_on_both_sockets_and_the_socket_stays_open(
    open_socket: Open, cast: Any, consultation: Any, frame: Any, code: str
) -> None:
    sock = await joined(open_socket, cast, consultation)
    await sock.send(frame)
    assert (await sock.expect("error"))["code"] == code
    await sock.send(sock.kind.probe)
    await sock.expect(sock.kind.answer)


async def test_a_frame_over_the_sockets_limit_gets_frame_too_large_and_the_socket_stays_open(
    open_socket: Open, cast: Any, consultation: Any, settings: Any
) -> None:
    sock = await joined(open_socket, cast, consultation)
    limit = getattr(settings, sock.kind.limit_setting)
    await sock.send(json.dumps(sock.kind.probe) + " " * limit)
    refused = await sock.expect("error")
    assert refused["code"] == "frame_too_large"
    assert not any(f["type"] == sock.kind.answer for f in sock.frames[:-1])
    await sock.send(sock.kind.probe)
    await sock.expect(sock.kind.answer)


async def test_a_flood_gets_rate_limited_then_4429(
    open_socket: Open, cast: Any, consultation: Any, settings: Any, kind: Kind
) -> None:
    setattr(settings, kind.burst_setting, 5)
    setattr(settings, kind.rate_setting, 1)
    sock = await joined(open_socket, cast, consultation)
    for _ in range(30):
        await sock.send(sock.kind.probe)
    assert await sock.closed() == 4429
    assert sock.frames[-1]["code"] == "rate_limited"


@pytest.mark.parametrize(
    ("who", "known", "close_code", "code"),
    [
        (None, True, 4401, "not_authenticated"),
        ("outsider_nurse", True, 4403, "not_a_participant"),
        ("nurse", False, 4404, "not_found"),
    ],
    ids=["not-logged-in", "outsider", "unknown-consult"],
)
async def test_a_refusal_gets_the_same_error_and_close_code_on_both_sockets(
    open_socket: Open,
    cast: Any,
    consultation: Any,
    who: str | None,
    known: bool,
    close_code: int,
    code: str,
) -> None:
    user = getattr(cast, who) if who else None
    sock = await open_socket(user, consultation.external_id if known else uuid.uuid4())
    assert await sock.closed() == close_code
    assert sock.frames[-1]["type"] == "error"
    assert sock.frames[-1]["code"] == code
