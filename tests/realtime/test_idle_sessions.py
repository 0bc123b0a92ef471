"""A socket opened with a browser session follows the session's idle rule (clinics.sessions):
refused on connect, closed by the periodic re-check, and kept alive by what the user sends
(docs/signaling.md "Idle sessions")."""

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from clinics.sessions import LAST_SEEN
from telehealth.asgi import application
from tests.conftest import Cast
from tests.room.conftest import ORIGIN

pytestmark = [pytest.mark.django_db(transaction=True)]

LIMIT = timedelta(minutes=1)  # SESSION_IDLE_MINUTES=1
ME = "/api/v1/me/"
# Each socket, the frame it answers first, and (for the room) the frame that lets it in.
SOCKETS = {
    "room": ("/ws/consultations/{id}/", "welcome"),
    "notes": ("/ws/consultations/{id}/notes/", "notes.state"),
    "notifications": ("/ws/notifications/", "snapshot"),
}


@pytest.fixture(autouse=True)
def _short_limits(settings: Any) -> None:
    settings.SESSION_IDLE_TIMEOUT = LIMIT
    settings.NOTES_RECHECK_SECONDS = 0.2
    settings.FEED_RECHECK_SECONDS = 0.2
    settings.ROOM_REAUTH_SECONDS = 0.2


@database_sync_to_async
def browser(user: Any, *, seen_ago: float | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if seen_ago is not None:
        set_last_seen(client, seen_ago)
    return client


def set_last_seen(client: Client, seconds_ago: float) -> None:
    session = client.session
    session[LAST_SEEN] = time.time() - seconds_ago
    session.save()


def last_seen(client: Client) -> float:
    return float(client.session[LAST_SEEN])


async def open_socket(client: Client, path: str) -> WebsocketCommunicator:
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    comm = WebsocketCommunicator(
        application, path, headers=[(b"origin", ORIGIN), (b"cookie", cookie)]
    )
    connected, _ = await comm.connect()
    assert connected
    return comm


async def frame(comm: WebsocketCommunicator, within: float = 5) -> dict[str, Any]:
    message = await comm.receive_output(within)
    assert message["type"] == "websocket.send", message
    return dict(json.loads(message["text"]))


async def answer(comm: WebsocketCommunicator, *types: str) -> dict[str, Any]:
    """The next frame of these types (a room also sends `status` unasked after a join)."""
    while True:
        data = await frame(comm)
        if data["type"] in types:
            return data


async def refusal(comm: WebsocketCommunicator, within: float = 5) -> tuple[str, int]:
    """The `error` code and the close code that end the socket; no other frame before them
    but the ones a socket sends unasked (a room's `status`/`peer_*`, the feed's events)."""
    while True:
        message = await comm.receive_output(within)
        if message["type"] == "websocket.close":
            raise AssertionError(f"closed {message.get('code')} without an error frame")
        data = json.loads(message["text"])
        if data["type"] == "error":
            close = await comm.receive_output(within)
            assert close["type"] == "websocket.close"
            return data["code"], int(close["code"])


async def let_in(comm: WebsocketCommunicator, kind: str, first: str) -> None:
    if kind == "room":
        await comm.send_to(text_data=json.dumps({"type": "hello"}))
    assert (await frame(comm))["type"] == first


def path_of(kind: str, consultation: Any) -> str:
    return SOCKETS[kind][0].format(id=consultation.external_id)


@pytest.mark.parametrize("kind", list(SOCKETS))
async def test_a_session_idle_past_the_limit_is_refused_on_connect(
    cast: Cast, consultation: Any, kind: str
) -> None:
    client = await browser(cast.nurse, seen_ago=75)
    comm = await open_socket(client, path_of(kind, consultation))
    if kind == "room":  # refused on connect: the hello is not even read
        await comm.send_to(text_data=json.dumps({"type": "hello"}))
    first = await frame(comm)  # nothing of the consult or the feed before the refusal
    assert (first["type"], first["code"]) == ("error", "session_expired")
    close = await comm.receive_output(5)
    assert (close["type"], close["code"]) == ("websocket.close", 4401)
    await comm.disconnect()
    # The page's next request is logged out by the same rule.
    assert (await database_sync_to_async(client.get)(ME)).status_code == 401


@pytest.mark.parametrize("kind", list(SOCKETS))
async def test_a_live_session_opens_the_socket(cast: Cast, consultation: Any, kind: str) -> None:
    client = await browser(cast.nurse, seen_ago=45)
    comm = await open_socket(client, path_of(kind, consultation))
    await let_in(comm, kind, SOCKETS[kind][1])
    await comm.disconnect()


@pytest.mark.parametrize("kind", list(SOCKETS))
async def test_an_open_socket_is_closed_when_its_session_goes_idle(
    cast: Cast, consultation: Any, kind: str
) -> None:
    client = await browser(cast.nurse, seen_ago=0)
    other = await browser(cast.nurse, seen_ago=0)  # the same user elsewhere stays
    comm = await open_socket(client, path_of(kind, consultation))
    await let_in(comm, kind, SOCKETS[kind][1])
    elsewhere = await open_socket(other, "/ws/notifications/")
    assert (await frame(elsewhere))["type"] == "snapshot"

    await database_sync_to_async(set_last_seen)(client, 75)  # no request for 75 s

    assert await refusal(comm) == ("session_expired", 4401)
    assert await elsewhere.receive_nothing(0.6)  # three re-checks: still open
    await elsewhere.send_to(text_data=json.dumps({"type": "ping"}))
    assert (await frame(elsewhere))["type"] == "pong"
    for c in (comm, elsewhere):
        await c.disconnect()


async def test_a_session_logged_out_elsewhere_is_closed_by_the_recheck(
    cast: Cast, consultation: Any
) -> None:
    """Even when the logout's push was lost (Redis away): the re-check finds no session."""
    client = await browser(cast.nurse, seen_ago=0)
    comm = await open_socket(client, path_of("notes", consultation))
    await let_in(comm, "notes", "notes.state")
    await database_sync_to_async(client.session.delete)()
    assert await refusal(comm) == ("logged_out", 4401)
    await comm.disconnect()


# The frame each socket answers, sent by a person (not the page's timer).
ACTIVITY = {
    "room": {"type": "resync"},
    "notes": {"type": "chat.sync"},
}


@pytest.mark.parametrize("kind", list(ACTIVITY))
async def test_what_the_user_sends_on_a_socket_keeps_the_session_alive_for_http(
    cast: Cast, consultation: Any, kind: str, monkeypatch: Any
) -> None:
    typing = await browser(cast.nurse, seen_ago=50)  # 10 s left
    quiet = await browser(cast.nurse, seen_ago=50)
    comm = await open_socket(typing, path_of(kind, consultation))
    await let_in(comm, kind, SOCKETS[kind][1])
    await comm.send_to(text_data=json.dumps(ACTIVITY[kind]))
    await answer(comm, "room", "chat.state")
    await comm.disconnect()
    assert time.time() - await database_sync_to_async(last_seen)(typing) < 5

    real = time.time
    monkeypatch.setattr("time.time", lambda: real() + 30)  # 30 s later, no request between
    assert (await database_sync_to_async(typing.get)(ME)).status_code == 200
    assert (await database_sync_to_async(quiet.get)(ME)).status_code == 401


async def test_frames_stamp_the_session_at_most_once_per_interval(
    cast: Cast, consultation: Any
) -> None:
    client = await browser(cast.nurse, seen_ago=50)
    comm = await open_socket(client, path_of("notes", consultation))
    await let_in(comm, "notes", "notes.state")
    await comm.send_to(text_data=json.dumps({"type": "chat.sync"}))
    assert (await frame(comm))["type"] == "chat.state"
    stamped = await database_sync_to_async(last_seen)(client)
    await database_sync_to_async(set_last_seen)(client, 50)  # as if 50 s had passed
    for _ in range(5):  # within the same 15 s (a quarter of the limit): no write
        await comm.send_to(text_data=json.dumps({"type": "chat.sync"}))
        assert (await frame(comm))["type"] == "chat.state"
    assert await database_sync_to_async(last_seen)(client) < stamped - 40
    await comm.disconnect()


async def test_the_feeds_ping_is_not_activity(cast: Cast) -> None:
    """The page pings on a timer: an open feed must not keep a deserted PC logged in."""
    client = await browser(cast.nurse, seen_ago=50)
    before = await database_sync_to_async(last_seen)(client)
    comm = await open_socket(client, "/ws/notifications/")
    assert (await frame(comm))["type"] == "snapshot"
    await comm.send_to(text_data=json.dumps({"type": "ping"}))
    assert (await frame(comm))["type"] == "pong"
    await comm.disconnect()
    assert await database_sync_to_async(last_seen)(client) == before
