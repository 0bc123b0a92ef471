"""Every WebSocket route × every role → what the socket does.

The room and the notes socket answer an outsider 4403, not 4404: docs/signaling.md
"Authorization" says why.

Routes come from the router, so a new socket without a row fails `test_every_socket_has_a_row`.
Outcomes: a frame type (the first frame the server sends, e.g. "welcome"), "open" (accepted,
quiet until the client speaks), "close:<code>" (accepted, then closed with a documented code),
"error:<code> close:<code>" (an error frame, then the close), or "refused" (the handshake
itself was refused).
"""

import asyncio
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from consults.room.services import guest_join
from telehealth.asgi import application
from tests.conftest import Cast
from tests.security.matrix_world import ROLES, World, build_world
from tests.security.routes import ws_routes

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = b"http://127.0.0.1"
ROOM = "/ws/consultations/{consultation_id}/"

# Order of roles: station, other_station, specialist, other_specialist, coordinator,
# other_coordinator, admin (an admin membership), province_manager, other_province_manager
# (programme managers: the dashboard only), guest, anonymous.
SOCKETS: dict[str, tuple[str, ...]] = {
    "/ws/consultations/{consultation_id}/": (
        "welcome",
        "error:not_a_participant close:4403",
        "welcome",
        "error:not_a_participant close:4403",
        "error:not_a_participant close:4403",
        "error:not_a_participant close:4403",
        "error:not_a_participant close:4403",  # an administrator is not in the call
        "error:not_a_participant close:4403",
        "error:not_a_participant close:4403",
        "welcome",
        "error:not_authenticated close:4401",
    ),
    "/ws/notifications/": (
        "snapshot",
        "snapshot",
        "snapshot",
        "snapshot",
        "snapshot",
        "snapshot",
        "snapshot",
        "snapshot",
        "snapshot",
        "error:not_authenticated close:4401",
        "error:not_authenticated close:4401",
    ),
    "/ws/precall/": (
        "open",
        "open",
        "open",
        "open",
        "open",
        "open",
        "open",
        "open",
        "open",
        "error:not_authenticated close:4401",
        "error:not_authenticated close:4401",
    ),
    "/ws/consultations/{id}/notes/": (  # the room's codes (docs/decisions.md)
        "notes.state",
        "error:not_a_participant close:4403",
        "notes.state",
        "error:not_a_participant close:4403",
        "error:not_a_participant close:4403",
        "error:not_a_participant close:4403",
        "error:not_a_participant close:4403",  # an administrator reads the notes over the API
        "error:not_a_participant close:4403",
        "error:not_a_participant close:4403",
        "error:not_authenticated close:4401",
        "error:not_authenticated close:4401",
    ),
}


@database_sync_to_async
def _cookie(world: World, role: str) -> bytes | None:
    user = world.user(role)
    if user is None:
        return None
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@database_sync_to_async
def _guest_ticket(world: World) -> str:
    ticket, _ = guest_join(token=world.guest_token, display_name="Phiên dịch viên")
    return ticket


async def outcome(route: str, world: World, role: str) -> str:
    path = route.format(
        consultation_id=world.consultation.external_id, id=world.consultation.external_id
    )
    headers = [(b"origin", ORIGIN)]
    cookie = await _cookie(world, role)
    if cookie:
        headers.append((b"cookie", cookie))
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await comm.connect(timeout=5)
    if not connected:
        return "refused"
    try:
        if route == ROOM:
            hello: dict[str, Any] = {"type": "hello"}
            if role == "guest":
                hello["ticket"] = await _guest_ticket(world)
            await comm.send_to(text_data=json.dumps(hello))
        if await comm.receive_nothing(timeout=1.5):
            return "open"
        message = await comm.receive_output(1)
        if message["type"] == "websocket.close":
            return f"close:{message.get('code')}"
        frame = json.loads(message["text"])
        if frame["type"] != "error":
            return str(frame["type"])
        closing = await comm.receive_output(3)  # an error before the handshake ends: a close
        return f"error:{frame['code']} close:{closing.get('code')}"
    finally:
        await comm.disconnect()


def test_every_socket_has_a_row() -> None:
    assert sorted(ws_routes()) == sorted(SOCKETS)


@pytest.mark.parametrize("route", sorted(SOCKETS))
async def test_each_role_meets_the_expected_socket(cast: Cast, route: str) -> None:
    world = await database_sync_to_async(build_world)(cast)
    got = []
    for role in ROLES:
        got.append(await outcome(route, world, role))
        await asyncio.sleep(0)
    expected = SOCKETS[route]
    assert tuple(got) == expected, [
        f"{r}: got {g}, expected {e}"
        for r, g, e in zip(ROLES, got, expected, strict=True)
        if g != e
    ]
