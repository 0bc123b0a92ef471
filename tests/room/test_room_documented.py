"""What docs/signaling.md says the room socket does, where it once said otherwise."""

import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async

from consults.room.services import room_ticket_issue
from tests.room.conftest import Opener
from tests.room.test_room_tickets_and_guests import _guest_link, guests_url

pytestmark = [pytest.mark.django_db(transaction=True)]


async def ticket_for(user: Any, consultation: Any) -> str:
    token, _ = await database_sync_to_async(room_ticket_issue)(consultation=consultation, user=user)
    return token


async def test_a_ticket_for_an_unknown_consult_is_4401_invalid_ticket_not_4404(
    open_room: Opener, cast: Any, consultation: Any
) -> None:
    # 4404 would tell a ticket holder which consult ids exist.
    token = await ticket_for(cast.specialist, consultation)
    room = await open_room(None, str(uuid.uuid4()), hello={"ticket": token})
    assert await room.closed() == 4401
    assert [f["code"] for f in room.frames] == ["invalid_ticket"]


async def test_the_peer_id_is_24_characters(
    open_room: Opener, cast: Any, consultation: Any
) -> None:
    room = await open_room(cast.nurse, consultation)
    peer = (await room.expect("welcome"))["peer"]
    assert len(peer) == 24
    assert peer.startswith("p-")


async def test_the_example_session_sends_status_before_peer_joined(
    open_room: Opener, cast: Any, consultation: Any
) -> None:
    station = await open_room(cast.nurse, consultation)
    assert (await station.expect("welcome"))["seq"] == 1
    specialist = await open_room(cast.specialist, consultation)
    await specialist.expect("welcome")
    joined = await station.expect("peer_joined")
    status = [f for f in station.frames if f["type"] == "status"]  # kept while waiting
    assert [f["consultation"]["status"] for f in status][-1:] == ["in_progress"]
    assert status[-1]["seq"] == joined["seq"] - 1


async def test_a_reconnecting_peer_gets_a_new_id_and_the_others_see_leave_then_join(
    open_room: Opener, cast: Any, consultation: Any
) -> None:
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    first = await open_room(cast.specialist, consultation)
    old = (await first.expect("welcome"))["peer"]
    await station.expect("peer_joined")
    await first.comm.disconnect(code=1006)
    again = await open_room(cast.specialist, consultation)
    new = (await again.expect("welcome"))["peer"]
    assert new != old
    left = await station.expect("peer_left")
    assert (left["peer"], left["reason"]) == (old, "dropped")
    assert (await station.expect("peer_joined"))["peer"] == new


async def test_a_ticket_in_hello_wins_over_the_session(
    open_room: Opener, cast: Any, consultation: Any
) -> None:
    token = await ticket_for(cast.specialist, consultation)
    room = await open_room(cast.nurse, consultation, hello={"ticket": token})
    assert (await room.expect("welcome"))["role"] == "specialist"


async def test_a_bad_ticket_with_a_good_session_is_refused_not_ignored(
    open_room: Opener, cast: Any, consultation: Any
) -> None:
    room = await open_room(cast.nurse, consultation, hello={"ticket": "x" * 40})
    assert await room.closed() == 4401
    assert [f["code"] for f in room.frames] == ["invalid_ticket"]


async def test_a_session_that_may_not_join_is_refused_before_its_ticket_is_read(
    open_room: Opener, cast: Any, consultation: Any
) -> None:
    token = await ticket_for(cast.specialist, consultation)
    room = await open_room(cast.outsider_nurse, consultation, hello={"ticket": token})
    assert await room.closed() == 4403


async def test_to_naming_yourself_is_unknown_peer(
    open_room: Opener, cast: Any, consultation: Any
) -> None:
    room = await open_room(cast.nurse, consultation)
    me = (await room.expect("welcome"))["peer"]
    await room.send({"type": "offer", "to": me, "sdp": "v=0"})
    error = await room.expect("error")
    assert (error["code"], error["ref"]) == ("unknown_peer", "offer")
    await room.send({"type": "ping"})
    await room.expect("pong")


async def test_a_revoked_guest_leaves_with_reason_access_revoked(
    open_room: Opener, api: Any, cast: Any, consultation: Any
) -> None:
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    guest_id, token = await database_sync_to_async(_guest_link)(api, cast, consultation)
    body = await database_sync_to_async(
        lambda: (
            api(None)
            .post(
                "/api/v1/room/guest-ticket/",
                {"token": token, "display_name": "Phiên dịch"},
                format="json",
            )
            .json()
        )
    )()
    guest = await open_room(None, consultation, hello={"ticket": body["ticket"]})
    peer = (await guest.expect("welcome"))["peer"]
    await station.expect("peer_joined")
    await database_sync_to_async(
        lambda: api(cast.coordinator).delete(f"{guests_url(consultation)}{guest_id}/")
    )()
    assert await guest.closed() == 4403
    assert [f["code"] for f in guest.frames] == ["access_revoked"]
    await guest.comm.disconnect()  # what daphne does after the server's close
    left = await station.expect("peer_left")
    assert (left["peer"], left["reason"]) == (peer, "access_revoked")
