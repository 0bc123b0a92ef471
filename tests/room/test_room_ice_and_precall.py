"""ICE servers and TURN credentials in `welcome`; the pre-call test's bounds."""

import base64
import hashlib
import hmac
import time

import pytest

from tests.room.conftest import Opener

pytestmark = [pytest.mark.django_db(transaction=True)]

SECRET = "coturn-shared-secret"
ICE = [
    {"urls": ["stun:stun.tram.example:3478"]},
    {"urls": ["turn:turn.tram.example:3478?transport=udp"]},
]


@pytest.fixture
def turn(settings) -> None:
    settings.ICE_SERVERS = ICE
    settings.TURN_SECRET = SECRET
    settings.ROOM_TURN_TTL_SECONDS = 600


def check_turn_entry(entry: dict, peer: str) -> None:
    expiry, named = entry["username"].split(":", 1)
    assert named == peer
    assert time.time() + 500 < int(expiry) <= time.time() + 601
    digest = hmac.new(SECRET.encode(), entry["username"].encode(), hashlib.sha1).digest()
    assert entry["credential"] == base64.b64encode(digest).decode()


async def test_welcome_carries_the_ice_servers_with_turn_credentials_for_this_peer(
    open_room: Opener, cast, consultation, turn
) -> None:
    welcome = await (await open_room(cast.nurse, consultation)).expect("welcome")
    stun, relay = welcome["ice_servers"]
    assert stun == ICE[0]  # no credentials on a STUN entry
    check_turn_entry(relay, welcome["peer"])


async def test_a_reconnect_gets_fresh_credentials_for_its_new_peer_id(
    open_room: Opener, cast, consultation, turn
) -> None:
    first = await (await open_room(cast.nurse, consultation)).expect("welcome")
    second = await (await open_room(cast.nurse, consultation)).expect("welcome")
    assert first["peer"] != second["peer"]
    check_turn_entry(second["ice_servers"][1], second["peer"])
    assert second["ice_servers"][1]["username"] != first["ice_servers"][1]["username"]


async def test_without_a_turn_secret_the_servers_go_out_as_configured(
    open_room: Opener, cast, consultation, settings
) -> None:
    settings.ICE_SERVERS = ICE
    settings.TURN_SECRET = ""
    welcome = await (await open_room(cast.nurse, consultation)).expect("welcome")
    assert welcome["ice_servers"] == ICE


async def test_the_precall_peer_welcomes_with_ice_servers_and_answers_pings(
    open_room: Opener, cast, turn
) -> None:
    test = await open_room(cast.nurse, "-", path="/ws/precall/")
    welcome = await test.expect("welcome")
    assert welcome["peers"][0]["peer"] == "echo"
    check_turn_entry(welcome["ice_servers"][1], welcome["peer"])
    await test.send({"type": "ping", "t": 42})
    assert (await test.expect("pong"))["t"] == 42


async def test_the_precall_needs_a_login(open_room: Opener) -> None:
    test = await open_room(None, "-", path="/ws/precall/", hello=False)
    assert await test.closed() == 4401


async def test_no_more_precall_tests_run_at_once_than_the_limit(
    open_room: Opener, cast, settings
) -> None:
    settings.ROOM_PRECALL_MAX = 1
    first = await open_room(cast.nurse, "-", path="/ws/precall/")
    await first.expect("welcome")
    second = await open_room(cast.specialist, "-", path="/ws/precall/", hello=False)
    assert await second.closed() == 4409
    assert any(f.get("code") == "busy" for f in second.frames)
    await first.send({"type": "bye"})
    assert await first.closed() == 1000
    await first.comm.disconnect()  # the client's side of the close handshake, as daphne sends it
    third = await open_room(cast.specialist, "-", path="/ws/precall/")
    assert (await third.expect("welcome"))["role"] == "precall"


async def test_a_precall_test_is_ended_by_the_server_when_its_time_is_up(
    open_room: Opener, cast, settings
) -> None:
    settings.ROOM_PRECALL_SECONDS = 0.5
    test = await open_room(cast.nurse, "-", path="/ws/precall/")
    await test.expect("welcome")
    assert await test.closed(within=5) == 1000
