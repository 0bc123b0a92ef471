"""Frames no column, query or channel layer can carry are refused by the validator with an
`error` frame, and the socket stays open (docs/signaling.md "Client → server frames")."""

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async

from consults.room.models import CallQualityReport
from tests.room.conftest import Opener, Room

pytestmark = [pytest.mark.django_db(transaction=True)]


async def pair(open_room: Opener, cast: Any, consultation: Any) -> tuple[Room, Room, str]:
    """The nurse and the specialist in the room; returns them and the specialist's peer id."""
    nurse = await open_room(cast.nurse, consultation)
    await nurse.expect("welcome")
    specialist = await open_room(cast.specialist, consultation)
    peer = (await specialist.expect("welcome"))["peer"]
    await nurse.expect("peer_joined")
    return nurse, specialist, peer


async def still_open(room: Room) -> None:
    await room.send({"type": "ping"})
    await room.expect("pong")


async def refused(room: Room, text: str, code: str = "invalid_field") -> dict[str, Any]:
    await room.send_raw(text)
    error = await room.expect("error")
    assert error["code"] == code, error
    await still_open(room)
    return error


@pytest.mark.parametrize("bad", ["\ud800", "a\x00b"])
@pytest.mark.parametrize(
    "frame",
    [
        {"type": "offer", "to": "PEER", "sdp": "v=0 BAD"},
        {"type": "answer", "to": "PEER", "sdp": "BAD"},
        {"type": "offer", "to": "BAD", "sdp": "v=0"},
        {"type": "restart", "to": "BAD"},
        {"type": "candidate", "to": "PEER", "candidate": {"candidate": "BAD", "sdpMid": "0"}},
        {"type": "candidate", "to": "PEER", "candidate": {"candidate": "c", "sdpMid": "BAD"}},
    ],
)
async def test_it_refuses_text_no_column_or_layer_can_carry_in_a_relayed_frame(
    open_room: Opener, cast: Any, consultation: Any, frame: dict[str, Any], bad: str
) -> None:
    nurse, specialist, peer = await pair(open_room, cast, consultation)
    text = json.dumps(frame).replace("PEER", peer).replace("BAD", json.dumps(bad)[1:-1])
    error = await refused(nurse, text)
    assert error["ref"] == frame["type"]
    assert await specialist.got_no(frame["type"])


@pytest.mark.parametrize("bad", ["\ud800", "x\x00"])
async def test_it_refuses_a_hello_whose_ticket_cannot_be_encoded(
    open_room: Opener, consultation: Any, bad: str
) -> None:
    room = await open_room(None, consultation, hello=False)
    error = await refused_before_hello(room, json.dumps({"type": "hello", "ticket": bad}))
    assert error["ref"] == "hello"


async def refused_before_hello(room: Room, text: str) -> dict[str, Any]:
    await room.send_raw(text)
    error = await room.expect("error")
    assert error["code"] == "invalid_field", error
    return error


async def test_a_refused_hello_can_be_followed_by_a_good_one(
    open_room: Opener, cast: Any, consultation: Any
) -> None:
    room = await open_room(cast.nurse, consultation, hello=False)
    await refused_before_hello(room, json.dumps({"type": "hello", "client": "\ud800"}))
    await room.send({"type": "hello"})
    await room.expect("welcome")


@pytest.mark.parametrize(
    "fields",
    [
        {"rtt_ms": 10**400},
        {"loss_pct": "1e309"},
        {"bitrate_kbps": "-1e309"},
        {"rtt_ms": "NaN"},
        {"rtt_ms": "Infinity"},
        {"audio_only_s": 2**31},
        {"audio_only_s": 10**30},
        {"audio_only_s": -1},
    ],
)
async def test_it_bounds_every_quality_number_to_its_column(
    open_room: Opener, cast: Any, consultation: Any, fields: dict[str, Any]
) -> None:
    room = await open_room(cast.nurse, consultation)
    await room.expect("welcome")
    # Raw JSON numbers (1e309, NaN): what a hostile client can put on the wire.
    body = ", ".join(f'"{k}": {v}' for k, v in fields.items())
    await refused(room, '{"type": "quality", ' + body + "}")
    assert await database_sync_to_async(CallQualityReport.objects.count)() == 0


async def test_it_stores_the_largest_quality_numbers_its_columns_hold(
    open_room: Opener, cast: Any, consultation: Any
) -> None:
    room = await open_room(cast.nurse, consultation)
    await room.expect("welcome")
    await room.send({"type": "quality", "rtt_ms": 1e308, "audio_only_s": 2**31 - 1})
    await still_open(room)
    report = await database_sync_to_async(CallQualityReport.objects.get)()
    assert (report.rtt_ms, report.audio_only_s) == (1e308, 2**31 - 1)


@pytest.mark.parametrize("t", ["1e309", "NaN", str(10**400)])
async def test_it_refuses_a_ping_time_no_float_holds(
    open_room: Opener, cast: Any, consultation: Any, t: str
) -> None:
    room = await open_room(cast.nurse, consultation)
    await room.expect("welcome")
    await refused(room, '{"type": "ping", "t": ' + t + "}")


@pytest.mark.parametrize("depth", [33, 30_000])
async def test_it_refuses_json_nested_deeper_than_any_frame_as_malformed(
    open_room: Opener, cast: Any, consultation: Any, depth: int
) -> None:
    room = await open_room(cast.nurse, consultation)
    await room.expect("welcome")
    await refused(room, "[" * depth, "malformed")
    await refused(room, '{"type": "ping", "t": ' + "[" * depth + "]" * depth + "}", "malformed")
