"""Three and five aiortc peers in one Janus VideoRoom through app-issued tokens: every one receives
every other's audio and video; no token, a forged one, or one revoked mid-call is refused."""

import os
import time
from pathlib import Path
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


def _janus_cpu_seconds(janus: JanusServer) -> float:
    """User + system CPU seconds Janus has used so far (/proc/<pid>/stat, clock ticks)."""
    fields = Path(f"/proc/{janus.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


@pytest.mark.parametrize("count", [3, 5])
async def test_peers_hear_and_see_each_other_and_a_revoked_one_is_cut_off(
    cast: Any, consultation: Any, janus: JanusServer, count: int
) -> None:
    nurses = [
        await sync_to_async(factories.make_user)(
            Membership.Role.STATION_STAFF, cast.station, username=f"nurse{n}"
        )
        for n in range(2, count)
    ]
    nurse2 = nurses[0]
    users = [cast.nurse, nurse2, *nurses[1:], cast.specialist]
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
        print(f"{count} peers joined and decoding in {time.monotonic() - began:.1f}s")
        # Janus's CPU share while every stream flows, over ~90 frames of one feed.
        cpu, wall = _janus_cpu_seconds(janus), time.monotonic()
        mark = peers[0].frames[peers[-1].feed]["video"]
        await peers[0].wait_for(lambda: peers[0].frames[peers[-1].feed]["video"] >= mark + 90)
        share = (_janus_cpu_seconds(janus) - cpu) / (time.monotonic() - wall)
        print(f"Janus CPU with {count} peers: {100 * share:.0f}% of a core")

        # The second nurse is removed mid-call: her Janus session is destroyed and her feed
        # kicked, the others see the feed go, and her token no longer opens anything.
        revoked = peers[1]
        await sync_to_async(conference_seat_revoke)(consultation=consultation, user=nurse2)
        gone = revoked.feed
        for other in [p for p in peers if p is not revoked]:
            await other.wait_for(lambda o=other: o.saw(lambda e: _feed_gone(e, gone)))
        # Its subscriptions end with its Janus session: while the others keep receiving,
        # nothing more reaches it (a few packets in flight at most).
        # Two windows of 30 frames of a remaining feed: the first lets what was in flight
        # or buffered drain, in the second the revoked peer decodes nothing.
        watcher, source = peers[0], peers[-1]
        for _window in range(2):
            cut = _received(revoked)
            mark = watcher.frames[source.feed]["video"]
            await watcher.wait_for(lambda m=mark: watcher.frames[source.feed]["video"] >= m + 30)
        assert _received(revoked) == cut
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
