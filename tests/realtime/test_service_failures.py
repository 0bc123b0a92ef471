"""Redis or the database failing under a socket (docs/signaling.md "When Redis or the database
fails"): no consumer dies with a traceback. Being let in, a socket is refused with
`service_unavailable` and 4503 (the client reconnects); a frame is answered with the same
error and the socket stays open; on the way out the failure is logged and the consumer ends.

The failures are real: a private redis-server killed, the test database refusing new
connections (every database call of a consumer opens one: CONN_MAX_AGE is 0), or a table
locked past the database's lock_timeout.
"""

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import close_old_connections, connection
from psycopg import sql

from clinics.models import User
from consults.models import Consultation
from consults.realtime.close import CloseCode
from consults.room.models import RoomPeer
from consults.room.services import room_ticket_issue
from telehealth.asgi import application
from tests.conftest import Cast
from tests.e2e.servers import RedisServer
from tests.room.conftest import ORIGIN, Opener, session_cookie
from tests.telehealth.pg_faults import admin_connection, allow_connections

pytestmark = pytest.mark.django_db(transaction=True)

UNAVAILABLE = CloseCode.SERVICE_UNAVAILABLE
GUARD_LOG = "consults.realtime.guard"


@contextlib.contextmanager
def _down() -> Iterator[None]:
    with admin_connection() as admin:
        allow_connections(admin, False)
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )
        try:
            yield
        finally:
            allow_connections(admin, True)


Down = Callable[[], contextlib.AbstractContextManager[None]]


@pytest.fixture
def database_down() -> Iterator[Down]:
    """database_down() → a context in which the test database refuses new connections and
    has lost its open ones (as in a restart)."""
    yield _down
    # The test's own connection was terminated too: the teardown's flush opens a new one.
    connection.close()


@contextlib.contextmanager
def consultations_locked() -> Iterator[None]:
    """The consult table locked by another session, with a short lock_timeout for new
    sessions: a consumer's read of a consult fails (LockNotAvailable, an OperationalError)
    while reading sessions and users, as the auth middleware does, still works."""
    name = sql.Identifier(connection.settings_dict["NAME"])
    with admin_connection() as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} SET lock_timeout = '300ms'").format(name))
        db = connection.settings_dict
        holder = psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            dbname=db["NAME"],
            user=db["USER"],
            password=db["PASSWORD"] or None,
        )
        try:
            table = sql.Identifier(Consultation._meta.db_table)
            holder.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(table))
            yield
        finally:
            holder.rollback()
            holder.close()
            admin.execute(sql.SQL("ALTER DATABASE {} RESET lock_timeout").format(name))


def layer_at(settings: Any, url: str) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "consults.realtime.layer.RedisChannelLayer",
            "CONFIG": {"hosts": [url]},
        }
    }


async def notes_socket(user: User, consultation: Consultation) -> WebsocketCommunicator:
    cookie = f"sessionid={await session_cookie(user)}".encode()
    comm = WebsocketCommunicator(
        application,
        f"/ws/consultations/{consultation.external_id}/notes/",
        headers=[(b"origin", ORIGIN), (b"cookie", cookie)],
    )
    connected, _ = await comm.connect()
    assert connected
    return comm


peer_rows = database_sync_to_async(
    lambda: sorted(RoomPeer.objects.values_list("peer_id", flat=True))
)


# --- Redis ---------------------------------------------------------------------------------


async def test_a_room_socket_that_loses_redis_is_closed_4503_and_still_leaves_the_room(
    redis_server: RedisServer, settings: Any, open_room: Opener, cast: Cast, consultation, caplog
) -> None:
    layer_at(settings, redis_server.url)
    room = await open_room(cast.nurse, consultation)
    welcome = await room.expect("welcome")
    assert await peer_rows() == [welcome["peer"]]

    with caplog.at_level(logging.WARNING, logger=GUARD_LOG):
        redis_server.stop()
        assert await room.closed(within=10) == UNAVAILABLE
        assert [f["code"] for f in room.frames if f["type"] == "error"] == ["service_unavailable"]
        # The client's side of the close: the disconnect handler runs, presence included.
        await room.comm.disconnect(code=1006)

    assert await peer_rows() == []
    logged = [r for r in caplog.records if r.name == GUARD_LOG]
    assert len(logged) == 1
    assert "Redis failed" in logged[0].getMessage()
    assert logged[0].exc_info is None


async def test_a_notes_socket_without_redis_is_refused_4503(
    settings: Any, cast: Cast, consultation
) -> None:
    layer_at(settings, "redis://127.0.0.1:9/0")  # nothing listens on the discard port
    comm = await notes_socket(cast.nurse, consultation)
    try:
        first = await comm.receive_json_from(5)
        assert first["type"] == "error"
        assert first["code"] == "service_unavailable"
        assert (await comm.receive_output(5))["code"] == UNAVAILABLE
    finally:
        await comm.disconnect()


# --- the database --------------------------------------------------------------------------


@pytest.mark.postgres
async def test_a_hello_while_the_database_is_down_is_refused_4503(
    open_room: Opener, cast: Cast, consultation: Consultation, database_down: Down
) -> None:
    token, _ = await database_sync_to_async(room_ticket_issue)(
        consultation=consultation, user=cast.specialist
    )
    room = await open_room(None, consultation, hello=False)
    with database_down():
        await room.send({"type": "hello", "ticket": token})
        assert await room.closed(within=10) == UNAVAILABLE
    assert [f["code"] for f in room.frames] == ["service_unavailable"]


@pytest.mark.postgres
async def test_a_session_socket_whose_consult_cannot_be_read_is_refused_4503(
    open_room: Opener, cast: Cast, consultation: Consultation
) -> None:
    with consultations_locked():
        room = await open_room(cast.nurse, consultation, hello=False)
        assert await room.closed(within=10) == UNAVAILABLE
    assert [f["code"] for f in room.frames] == ["service_unavailable"]


@pytest.mark.postgres
async def test_a_frame_while_the_database_is_down_gets_an_error_and_the_socket_stays_open(
    open_room: Opener, cast: Cast, consultation: Consultation, database_down: Down
) -> None:
    room = await open_room(cast.nurse, consultation)
    await room.expect("welcome")
    with database_down():
        await room.send({"type": "quality", "rtt_ms": 80})
        error = await room.expect("error", within=10)
        # A ping is answered from memory (docs/signaling.md "Heartbeat"): it still works.
        await room.send({"type": "ping", "t": 1})
        assert (await room.expect("pong"))["t"] == 1
        await room.send({"type": "resync"})
        second = await room.expect("error", within=10)
    assert (error["code"], error["ref"]) == ("service_unavailable", "quality")
    assert (second["code"], second["ref"]) == ("service_unavailable", "resync")
    # Back. Under daphne, Channels closes the dead connection after the failed call;
    # channels.testing turns that clean-up off, so the test does it.
    await sync_to_async(close_old_connections)()
    await room.send({"type": "resync"})
    assert (await room.expect("room"))["consultation"]["status"]


@pytest.mark.postgres
async def test_a_disconnect_while_the_database_is_down_is_logged_and_presence_is_left_to_the_ttl(
    open_room: Opener, cast: Cast, consultation: Consultation, caplog, database_down: Down
) -> None:
    room = await open_room(cast.nurse, consultation)
    welcome = await room.expect("welcome")
    with caplog.at_level(logging.WARNING, logger=GUARD_LOG), database_down():
        await room.comm.disconnect(code=1006)  # would raise had the consumer crashed
    assert await peer_rows() == [welcome["peer"]]
    logged = [r.getMessage() for r in caplog.records if r.name == GUARD_LOG]
    assert len(logged) == 1
    assert "websocket.disconnect" in logged[0]


@pytest.mark.postgres
async def test_a_notes_frame_while_the_database_is_down_gets_an_error_and_the_socket_stays_open(
    cast: Cast, consultation: Consultation, database_down: Down
) -> None:
    comm = await notes_socket(cast.nurse, consultation)
    try:
        assert (await comm.receive_json_from(5))["type"] == "notes.state"
        chat = {"type": "chat.send", "text": "Huyết áp 150/95", "client_msg_id": "m-1"}
        with database_down():
            await comm.send_json_to(chat)
            error = await comm.receive_json_from(10)
        assert (error["code"], error["ref"]) == ("service_unavailable", "chat.send")
        await sync_to_async(close_old_connections)()  # as in the room's test above
        await comm.send_json_to(chat)
        assert (await comm.receive_json_from(5))["type"] == "chat.sent"
    finally:
        await comm.disconnect()


@pytest.mark.postgres
async def test_a_notes_socket_whose_consult_cannot_be_read_is_refused_4503(
    cast: Cast, consultation: Consultation
) -> None:
    with consultations_locked():
        comm = await notes_socket(cast.nurse, consultation)
        try:
            assert (await comm.receive_json_from(10))["code"] == "service_unavailable"
            assert (await comm.receive_output(5))["code"] == UNAVAILABLE
        finally:
            await comm.disconnect()


@pytest.mark.postgres
@pytest.mark.parametrize("socket", ["room", "notes"])
async def test_a_session_socket_opened_while_the_database_is_down_is_refused_4503(
    socket: str, cast: Cast, consultation: Consultation, database_down: Down, caplog
) -> None:
    """The session is read before any consumer runs (Channels' auth middleware): a database
    that is away there is the guard's failure like any other, not a traceback and a 1011."""
    cookie = f"sessionid={await session_cookie(cast.nurse)}".encode()
    path = f"/ws/consultations/{consultation.external_id}/"
    if socket == "notes":
        path += "notes/"
    comm = WebsocketCommunicator(
        application, path, headers=[(b"origin", ORIGIN), (b"cookie", cookie)]
    )
    with caplog.at_level(logging.WARNING), database_down():
        connected, _ = await comm.connect(timeout=10)
        assert connected
        first = await comm.receive_json_from(10)
        assert (first["type"], first["code"]) == ("error", "service_unavailable")
        assert (await comm.receive_output(10))["code"] == UNAVAILABLE
    await comm.disconnect()
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
