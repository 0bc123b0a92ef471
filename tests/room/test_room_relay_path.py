"""The relay path needs no database and no turn of the process's one sync thread."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from tests.room.conftest import Opener

pytestmark = [pytest.mark.django_db(transaction=True)]


async def test_an_offer_is_relayed_while_the_database_thread_is_busy(
    open_room: Opener, cast, consultation
) -> None:
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    specialist = await open_room(cast.specialist, consultation)
    target = (await specialist.expect("welcome"))["peer"]
    await station.expect("peer_joined")

    # A long join or access re-check elsewhere in the process holds the thread that every
    # database_sync_to_async call (and Channels' per-message connection clean-up) runs in.
    release = threading.Event()
    busy = asyncio.ensure_future(sync_to_async(release.wait)(10))
    try:
        await station.send({"type": "offer", "to": target, "sdp": "v=0 busy"})
        offer = await specialist.expect("offer", within=3)
        assert offer["sdp"] == "v=0 busy"
    finally:
        release.set()
        await busy
