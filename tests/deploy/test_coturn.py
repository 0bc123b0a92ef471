"""coturn from deploy/turnserver.conf relays a call for the credentials the app minted, and
refuses expired or forged ones (docs/deploy.md §5)."""

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aioice import stun
from aioice.turn import create_turn_endpoint
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
)

from consults.room.turn import ice_servers_for, turn_credentials
from tests.deploy.coturn import TURNSERVER, Coturn

SECRET = "coturn-test-secret-not-for-production"


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Coturn]:
    if not shutil.which(TURNSERVER) and not os.path.exists(TURNSERVER):
        message = "coturn is missing: apt-get install coturn"
        if os.environ.get("TELEHEALTH_REQUIRE_SERVICES"):
            pytest.fail(message)  # .ci/run installs it
        pytest.skip(message)
    server = Coturn(tmp_path, SECRET).start()
    yield server
    server.stop()


def relay_only(servers: list[dict[str, Any]]) -> RTCConfiguration:
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in servers
        ],
        iceTransportPolicy=RTCIceTransportPolicy.RELAY,
    )


async def test_two_peers_call_through_the_relay_with_the_apps_credentials(
    coturn: Coturn, settings: Any
) -> None:
    settings.ICE_SERVERS = [{"urls": [coturn.url]}]
    settings.TURN_SECRET = SECRET
    settings.ROOM_TURN_TTL_SECONDS = 600
    station = RTCPeerConnection(relay_only(ice_servers_for("station-peer")))
    specialist = RTCPeerConnection(relay_only(ice_servers_for("specialist-peer")))
    received: asyncio.Queue[str] = asyncio.Queue()
    try:
        channel = station.createDataChannel("probe")

        @specialist.on("datachannel")
        def _channel(remote: Any) -> None:
            remote.on("message", received.put_nowait)

        await station.setLocalDescription(await station.createOffer())
        offer = station.localDescription
        # Relay policy: the only candidates offered are coturn's relayed addresses.
        assert " typ relay" in offer.sdp
        assert " typ host" not in offer.sdp
        await specialist.setRemoteDescription(offer)
        await specialist.setLocalDescription(await specialist.createAnswer())
        answer = specialist.localDescription
        assert " typ relay" in answer.sdp
        assert " typ host" not in answer.sdp
        await station.setRemoteDescription(answer)

        opened = asyncio.Event()
        channel.on("open", opened.set)
        await asyncio.wait_for(opened.wait(), 20)
        channel.send("hello through coturn")
        assert await asyncio.wait_for(received.get(), 10) == "hello through coturn"
        assert station.connectionState == specialist.connectionState == "connected"
    finally:
        await station.close()
        await specialist.close()


async def allocate(coturn: Coturn, username: str, password: str) -> None:
    transport, _ = await create_turn_endpoint(
        asyncio.DatagramProtocol, ("127.0.0.1", coturn.port), username, password
    )
    transport.close()


async def test_the_apps_credentials_get_an_allocation(coturn: Coturn) -> None:
    minted = turn_credentials("peer-1", secret=SECRET, ttl=600)
    await allocate(coturn, minted["username"], minted["credential"])


@pytest.mark.parametrize(
    "minted",
    [
        pytest.param(lambda: turn_credentials("peer-1", secret=SECRET, ttl=-60), id="expired"),
        pytest.param(lambda: turn_credentials("peer-1", secret="forged", ttl=600), id="forged"),
    ],
)
async def test_coturn_refuses_expired_and_forged_credentials(coturn: Coturn, minted: Any) -> None:
    credentials = minted()
    with pytest.raises(stun.TransactionFailed) as refused:
        await allocate(coturn, credentials["username"], credentials["credential"])
    assert refused.value.response.attributes["ERROR-CODE"][0] == 401
