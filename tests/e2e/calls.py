"""Helpers for end-to-end calls between Python WebRTC clients (tests/support/rtc_client.py)."""

import asyncio
import time

from channels.db import database_sync_to_async

from consults.models import Consultation
from consults.room.models import RoomPeer
from tests.e2e.conftest import PASSWORD
from tests.support.rtc_client import RoomClient

STATION_LUMA, SPECIALIST_LUMA = 200, 60


def station_and_specialist(
    station_url: str, specialist_url: str, consultation: Consultation
) -> tuple[RoomClient, RoomClient]:
    cid = str(consultation.external_id)
    station = RoomClient(
        station_url, cid, username="nurse", password=PASSWORD, luminance=STATION_LUMA
    )
    specialist = RoomClient(
        specialist_url, cid, username="specialist", password=PASSWORD, luminance=SPECIALIST_LUMA
    )
    return station, specialist


async def call_is_up(me: RoomClient, them: RoomClient, within: float = 30) -> None:
    """`me` decodes `them`'s camera on a call with `them`'s current connection, and their
    greeting on the probe data channel has arrived."""

    def decoding() -> bool:
        link = me.links.get(them.welcome["peer"])  # their connection now, if it changed
        return link is not None and link.frames >= 5

    await me.wait_for(decoding, within)
    assert abs((me.links[them.welcome["peer"]].luminance or 0) - them.luminance) < 20
    greeting = f"hello from {them.welcome['role']}"
    await me.wait_for(lambda: greeting in me.probe_messages, within=10)


@database_sync_to_async
def room_peers(consultation: Consultation) -> set[str]:
    return set(RoomPeer.objects.filter(consultation=consultation).values_list("peer_id", flat=True))


async def leave_and_wait_for_empty_room(
    consultation: Consultation, *clients: RoomClient, within: float = 15
) -> None:
    """Close the clients and wait until the servers have recorded the leaves: a leave that
    arrives during the test database's flush (TRUNCATE) would deadlock with it."""
    for client in clients:
        await client.close()
    deadline = time.monotonic() + within
    while await room_peers(consultation):
        if time.monotonic() > deadline:
            raise TimeoutError("the room still has peers after its clients left")
        await asyncio.sleep(0.1)
