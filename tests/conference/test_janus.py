"""Three aiortc peers in one Janus VideoRoom through app-issued tokens: every one receives
every other's audio and video; no token, a forged one, or one revoked mid-call is refused."""

import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from clinics.models import Membership
from consults.conference.models import ConferenceSeat
from consults.conference.services import (
    conference_close,
    conference_open,
    conference_seat_issue,
    conference_seat_revoke,
)
from tests import factories
from tests.support.janus import JanusServer
from tests.support.janus_client import JanusPeer, JanusRefused

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

FRAMES = 10  # decoded frames of each kind from each other participant


def _data(event: dict[str, Any]) -> dict[str, Any]:
    return dict(event.get("plugindata", {}).get("data", {}))


def _feed_gone(event: dict[str, Any], feed: int) -> bool:
    data = _data(event)
    return feed in (data.get("kicked"), data.get("unpublished"), data.get("leaving"))


def _received(peer: JanusPeer) -> int:
    return sum(kinds["audio"] + kinds["video"] for kinds in peer.frames.values())


def _everyone_hears_and_sees(peers: list[JanusPeer]) -> bool:
    return all(
        peer.frames[other.feed]["audio"] >= FRAMES and peer.frames[other.feed]["video"] >= FRAMES
        for peer in peers
        for other in peers
        if other is not peer
    )


async def _join_all(peers: list[JanusPeer], room: int) -> None:
    for peer in peers:
        await peer.connect()
        await peer.join(room)
    for peer in peers:
        for other in peers:
            if other is not peer:
                await peer.subscribe(other.feed)


async def test_three_peers_hear_and_see_each_other_and_a_revoked_one_is_cut_off(
    cast: Any, consultation: Any, janus: JanusServer
) -> None:
    nurse2 = await sync_to_async(factories.make_user)(
        Membership.Role.STATION_STAFF, cast.station, username="nurse2"
    )
    users = [cast.nurse, nurse2, cast.specialist]
    seats: list[ConferenceSeat] = [
        await sync_to_async(conference_seat_issue)(consultation=consultation, user=user)
        for user in users
    ]
    room = seats[0].conference.room
    assert {seat.conference_id for seat in seats} == {seats[0].conference_id}
    peers = [
        JanusPeer(janus.url, seat.token, seat.feed, user.username)
        for seat, user in zip(seats, users, strict=True)
    ]
    began = time.monotonic()
    try:
        await _join_all(peers, room)
        await peers[0].wait_for(lambda: _everyone_hears_and_sees(peers), within=60)
        print(f"3 peers joined and decoding in {time.monotonic() - began:.1f}s")

        # The second nurse is removed mid-call: her Janus session is destroyed and her feed
        # kicked, the others see the feed go, and her token no longer opens anything.
        revoked = peers[1]
        await sync_to_async(conference_seat_revoke)(consultation=consultation, user=nurse2)
        gone = revoked.feed
        for other in (peers[0], peers[2]):
            await other.wait_for(lambda o=other: o.saw(lambda e: _feed_gone(e, gone)))
        # Its subscriptions end with its Janus session: while the others keep receiving,
        # nothing more reaches it (a few packets in flight at most).
        cut = _received(revoked)
        mark = peers[0].frames[peers[2].feed]["video"]
        await peers[0].wait_for(lambda: peers[0].frames[peers[2].feed]["video"] >= mark + 30)
        assert _received(revoked) - cut <= 5
        with pytest.raises(JanusRefused) as refused:
            await revoked.subscribe(peers[0].feed)
        assert refused.value.code == 403
        again = JanusPeer(janus.url, revoked.token, revoked.feed, "again")
        with pytest.raises(JanusRefused) as refused:
            await again.connect()
        assert refused.value.code == 403
        await again.close()
    finally:
        for peer in peers:
            await peer.close()
    await sync_to_async(conference_close)(consultation=consultation)


async def test_no_token_and_a_forged_token_cannot_join(
    consultation: Any, janus: JanusServer
) -> None:
    conference = await sync_to_async(conference_open)(consultation=consultation)
    for token in (None, "forged-" + "x" * 36):
        peer = JanusPeer(janus.url, token, 4242, "intruder")
        with pytest.raises(JanusRefused) as refused:
            await peer.connect()
        assert refused.value.code == 403
        await peer.close()
    await sync_to_async(conference_close)(consultation=consultation)
    assert conference.room
