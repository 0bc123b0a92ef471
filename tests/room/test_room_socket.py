"""The consult room socket, rule by rule (docs/signaling.md)."""

import json
import time
import uuid

import pytest
from channels.db import database_sync_to_async

from clinics.models import Membership
from consults.models import Consultation
from consults.room import reauth
from consults.room.models import RoomPeer
from tests import factories
from tests.room.conftest import Opener

pytestmark = [pytest.mark.django_db(transaction=True)]


async def test_it_welcomes_a_station_nurse_with_a_peer_id_and_an_empty_room(
    open_room: Opener, cast, consultation
) -> None:
    room = await open_room(cast.nurse, consultation)
    welcome = await room.expect("welcome")
    assert welcome["peer"].startswith("p-")
    assert welcome["role"] == "station"
    assert welcome["polite"] is False
    assert welcome["peers"] == []
    assert welcome["consultation"]["id"] == str(consultation.external_id)
    assert welcome["seq"] == 1


async def test_it_closes_4401_without_a_session_or_ticket(open_room: Opener, consultation) -> None:
    room = await open_room(None, consultation)
    assert await room.closed() == 4401


async def test_it_closes_4401_for_a_bogus_ticket(open_room: Opener, consultation) -> None:
    room = await open_room(None, consultation, hello={"ticket": "x" * 40})
    assert await room.closed() == 4401


async def test_it_closes_4403_for_an_outsider_nurse(open_room: Opener, cast, consultation) -> None:
    room = await open_room(cast.outsider_nurse, consultation, hello=False)
    assert await room.closed() == 4403


async def test_it_closes_4403_for_a_coordinator_who_sees_but_is_not_in_the_call(
    open_room: Opener, cast, consultation
) -> None:
    room = await open_room(cast.coordinator, consultation, hello=False)
    assert await room.closed() == 4403


async def test_it_closes_4404_for_an_unknown_consult(open_room: Opener, cast) -> None:
    room = await open_room(cast.nurse, str(uuid.uuid4()), hello=False)
    assert await room.closed() == 4404


async def test_it_closes_4404_for_a_malformed_consult_id(open_room: Opener, cast) -> None:
    room = await open_room(cast.nurse, "not-a-uuid", hello=False)
    assert await room.closed() == 4404


async def test_it_closes_4409_for_a_completed_consult(open_room: Opener, cast) -> None:
    done = await database_sync_to_async(factories.make_consultation)(
        patient=cast.patient,
        specialist=cast.specialist,
        hospital=cast.hospital,
        status=Consultation.Status.COMPLETED,
    )
    room = await open_room(cast.nurse, done, hello=False)
    assert await room.closed() == 4409


async def test_it_refuses_a_null_origin(open_room: Opener, cast, consultation) -> None:
    with pytest.raises(ConnectionRefusedError):
        await open_room(cast.nurse, consultation, origin=b"null")


async def test_it_refuses_a_foreign_origin(open_room: Opener, cast, consultation) -> None:
    with pytest.raises(ConnectionRefusedError):
        await open_room(cast.nurse, consultation, origin=b"https://evil.example")


async def test_it_refuses_a_missing_origin(open_room: Opener, cast, consultation) -> None:
    with pytest.raises(ConnectionRefusedError):
        await open_room(cast.nurse, consultation, origin=None)


async def test_it_refuses_a_frame_over_64_kib_and_keeps_the_peer_in_the_room(
    open_room: Opener, cast, consultation
) -> None:
    nurse = await open_room(cast.nurse, consultation)
    await nurse.expect("welcome")
    specialist = await open_room(cast.specialist, consultation)
    await specialist.expect("welcome")
    await nurse.send({"type": "ping", "t": 1, "pad": "x" * (64 * 1024)})
    refused = await nurse.expect("error")
    assert refused["code"] == "frame_too_large"
    await nurse.send({"type": "ping", "t": 2})
    assert (await nurse.expect("pong"))["t"] == 2
    await nurse.comm.disconnect(code=1000)
    left = await specialist.expect("peer_left")
    assert left["reason"] == "left"  # disconnect ran: no ghost waiting for its TTL


async def test_it_accepts_a_frame_just_under_64_kib(open_room: Opener, cast, consultation) -> None:
    room = await open_room(cast.nurse, consultation)
    await room.expect("welcome")
    await room.send_raw(json.dumps({"type": "ping", "t": 1}) + " " * (64 * 1024 - 30))
    assert (await room.expect("pong"))["t"] == 1


async def test_it_closes_4429_on_a_flood(open_room: Opener, cast, consultation, settings) -> None:
    settings.ROOM_RATE_BURST = 10
    settings.ROOM_RATE_PER_SECOND = 1
    room = await open_room(cast.nurse, consultation)
    await room.expect("welcome")
    for _ in range(30):
        await room.send({"type": "resync"})
    assert await room.closed() == 4429


async def test_it_answers_malformed_json_with_an_error_and_keeps_the_socket(
    open_room: Opener, cast, consultation
) -> None:
    room = await open_room(cast.nurse, consultation)
    await room.expect("welcome")
    await room.send_raw("{not json")
    error = await room.expect("error")
    assert error["code"] == "malformed"
    await room.send({"type": "ping", "t": 7})
    assert (await room.expect("pong"))["t"] == 7


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "dance"}, "unknown_type"),
        ({"type": "offer", "to": "p-x"}, "missing_field"),
        ({"type": "offer", "to": "p-x", "sdp": 5}, "invalid_field"),
        ({"type": "ping", "extra": 1}, "unknown_field"),
        ({"type": "candidate", "to": "p-x", "candidate": {"candidate": 1}}, "invalid_field"),
        ([1, 2], "malformed"),
        ({"type": "offer", "to": "p-nobody", "sdp": "v=0"}, "unknown_peer"),
        ({"type": "hello"}, "already_joined"),
    ],
)
async def test_it_answers_bad_frames_with_an_error_code(
    open_room: Opener, cast, consultation, frame, code
) -> None:
    room = await open_room(cast.nurse, consultation)
    await room.expect("welcome")
    await room.send_raw(json.dumps(frame))
    assert (await room.expect("error"))["code"] == code
    await room.send({"type": "ping"})
    await room.expect("pong")


async def test_it_closes_4401_at_once_when_the_first_frame_is_not_hello(
    open_room: Opener, cast, consultation
) -> None:
    room = await open_room(cast.nurse, consultation, hello=False)
    await room.send({"type": "ping"})
    assert await room.closed(within=2) == 4401  # not after the 10 s hello timeout
    assert [f["code"] for f in room.frames] == ["hello_required"]


async def test_it_closes_4401_when_no_hello_comes_in_time(
    open_room: Opener, cast, consultation, settings
) -> None:
    settings.ROOM_HELLO_TIMEOUT_SECONDS = 0.2
    room = await open_room(None, consultation, hello=False)
    assert await room.closed() == 4401


async def test_it_tells_each_side_about_the_other_with_opposite_polite_roles(
    open_room: Opener, cast, consultation
) -> None:
    station = await open_room(cast.nurse, consultation)
    s_welcome = await station.expect("welcome")
    specialist = await open_room(cast.specialist, consultation)
    p_welcome = await specialist.expect("welcome")
    assert p_welcome["polite"] is True
    assert p_welcome["peers"] == [
        {
            "peer": s_welcome["peer"],
            "role": "station",
            "name": cast.nurse.display_name,
            "polite": True,
        }
    ]
    joined = await station.expect("peer_joined")
    assert joined["peer"] == p_welcome["peer"]
    assert joined["role"] == "specialist"
    assert joined["polite"] is False


async def test_it_stamps_from_and_relays_an_offer_to_its_target_only(
    open_room: Opener, cast, consultation
) -> None:
    station = await open_room(cast.nurse, consultation)
    s = await station.expect("welcome")
    specialist = await open_room(cast.specialist, consultation)
    p = await specialist.expect("welcome")
    second_nurse = await database_sync_to_async(factories.make_user)(
        Membership.Role.STATION_STAFF, cast.station
    )
    third = await open_room(second_nurse, consultation)
    await third.expect("welcome")
    await station.expect("peer_joined")
    await station.expect("peer_joined")
    await specialist.expect("peer_joined")

    await station.send({"type": "offer", "to": p["peer"], "sdp": "v=0 offer"})
    offer = await specialist.expect("offer")
    assert offer["from"] == s["peer"]
    assert offer["sdp"] == "v=0 offer"
    assert offer["pseq"] == 1
    assert "to" not in offer
    assert await third.got_no("offer")
    assert await station.got_no("offer")


async def test_it_refuses_a_frame_that_names_its_own_from(
    open_room: Opener, cast, consultation
) -> None:
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    specialist = await open_room(cast.specialist, consultation)
    p = await specialist.expect("welcome")
    await station.send({"type": "offer", "to": p["peer"], "sdp": "v=0", "from": p["peer"]})
    assert (await station.expect("error"))["code"] == "forbidden_field"
    assert await specialist.got_no("offer")


async def test_a_reconnect_of_the_same_user_replaces_the_old_peer(
    open_room: Opener, cast, consultation
) -> None:
    specialist = await open_room(cast.specialist, consultation)
    p = await specialist.expect("welcome")
    old = await open_room(cast.nurse, consultation)
    old_welcome = await old.expect("welcome")
    await specialist.expect("peer_joined")

    new = await open_room(cast.nurse, consultation)
    new_welcome = await new.expect("welcome")
    assert [peer["role"] for peer in new_welcome["peers"]] == ["specialist"]
    assert await old.closed() == 4409
    assert any(f.get("code") == "replaced" for f in old.frames)
    left = await specialist.expect("peer_left")
    assert (left["peer"], left["reason"]) == (old_welcome["peer"], "replaced")
    joined = await specialist.expect("peer_joined")
    assert joined["peer"] == new_welcome["peer"]
    peers = await database_sync_to_async(
        lambda: sorted(RoomPeer.objects.values_list("peer_id", flat=True))
    )()
    assert peers == sorted([p["peer"], new_welcome["peer"]])


async def test_it_refuses_a_fifth_peer_with_4409(
    open_room: Opener, cast, consultation, settings
) -> None:
    settings.ROOM_MAX_PEERS = 2
    await (await open_room(cast.nurse, consultation)).expect("welcome")
    await (await open_room(cast.specialist, consultation)).expect("welcome")
    nurse2 = await database_sync_to_async(factories.make_user)(
        Membership.Role.STATION_STAFF, cast.station
    )
    third = await open_room(nurse2, consultation)
    assert await third.closed() == 4409
    assert third.frames[-1]["code"] == "room_full"


async def test_it_lets_only_the_specialist_end_the_consult(
    open_room: Opener, cast, consultation
) -> None:
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    await station.send({"type": "end"})
    assert (await station.expect("error"))["code"] == "not_allowed"


async def test_it_rechecks_access_while_connected_and_closes_4403_when_it_is_gone(
    open_room: Opener, cast, consultation, settings
) -> None:
    settings.ROOM_REAUTH_SECONDS = 0.1
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    await database_sync_to_async(
        lambda: Membership.objects.filter(user=cast.nurse).update(is_active=False)
    )()
    assert await station.closed() == 4403
    assert station.frames[-1]["code"] == "access_revoked"


async def test_a_frame_waits_for_a_fresh_check_when_the_background_one_fell_behind(
    open_room: Opener, cast, consultation, settings
) -> None:
    settings.ROOM_REAUTH_SECONDS = 3600
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    await database_sync_to_async(
        lambda: Membership.objects.filter(user=cast.nurse).update(is_active=False)
    )()
    settings.ROOM_REAUTH_SECONDS = 0.0001  # the last check is now "old"
    await station.send({"type": "resync"})
    assert await station.closed() == 4403
    assert not any(f["type"] == "room" for f in station.frames)


async def test_connections_whose_check_fell_behind_share_one_batch_not_one_check_each(
    open_room: Opener, cast, consultation, settings, monkeypatch
) -> None:
    settings.ROOM_REAUTH_SECONDS = 3600
    other = await database_sync_to_async(factories.make_consultation)(
        patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital, room=cast.room
    )
    sockets = [
        await open_room(cast.nurse, consultation),
        await open_room(cast.specialist, consultation),
        await open_room(cast.specialist, other),
    ]
    for socket in sockets:
        await socket.expect("welcome")
    batches: list[int] = []
    real = reauth.denied_among

    def counting(items):
        batches.append(len(items))
        return real(items)

    monkeypatch.setattr(reauth, "denied_among", counting)
    for consumer in reauth._live.values():  # the background check has fallen far behind
        consumer.checked_at = time.monotonic() - 4 * 3600
    for socket in sockets:
        await socket.send({"type": "resync"})
    for socket in sockets:
        assert (await socket.expect("room"))["type"] == "room"
    assert batches == [3]  # the first late frame checked every connection of the process


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"status": Consultation.Status.CANCELLED}, 4409),
        ({"specialist": None}, 4403),
    ],
)
async def test_a_consult_that_changes_under_the_call_closes_the_socket(
    open_room: Opener, cast, consultation, settings, change, code
) -> None:
    settings.ROOM_REAUTH_SECONDS = 0.1
    specialist = await open_room(cast.specialist, consultation)
    await specialist.expect("welcome")
    await database_sync_to_async(
        lambda: Consultation.objects.filter(pk=consultation.pk).update(**change)
    )()
    assert await specialist.closed() == code


async def test_every_server_frame_carries_a_growing_seq(
    open_room: Opener, cast, consultation
) -> None:
    station = await open_room(cast.nurse, consultation)
    for t in range(3):
        await station.send({"type": "ping", "t": t})
    arrived = [await station.recv()]
    while arrived[-1]["type"] != "pong" or arrived[-1]["t"] != 2:
        arrived.append(await station.recv())
    assert [f["seq"] for f in arrived] == list(range(1, len(arrived) + 1))
    assert arrived[0]["type"] == "welcome"
