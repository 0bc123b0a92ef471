"""Two real aiortc peers call each other through daphne + the Redis layer (one and two
processes), then one loses its socket, rejoins, and media flows again."""

from collections.abc import Callable
from typing import Any

import aioice.ice
import pytest

from tests.e2e.conftest import PASSWORD
from tests.support.rtc_client import RoomClient

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
]

STATION_LUMA, SPECIALIST_LUMA = 200, 60


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    # aioice never offers 127.0.0.1 by itself (ENVIRONMENT.md).
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


async def _call_and_check(station: RoomClient, specialist: RoomClient) -> None:
    await station.join()
    await specialist.join()
    seen_by_station = await station.wait_frames(5)
    seen_by_specialist = await specialist.wait_frames(5)
    assert seen_by_station.connected.is_set()
    assert seen_by_specialist.connected.is_set()
    # Each decodes the *other's* synthetic camera.
    assert abs((seen_by_station.luminance or 0) - SPECIALIST_LUMA) < 20
    assert abs((seen_by_specialist.luminance or 0) - STATION_LUMA) < 20
    await station.wait_for(lambda: "hello from specialist" in station.probe_messages)
    await specialist.wait_for(lambda: "hello from station" in specialist.probe_messages)
    # The peer-to-peer channel is a probe: chat goes through the server, audited.
    assert seen_by_station.probe.label == seen_by_specialist.probe.label == "probe"


async def _drop_rejoin_and_check(station: RoomClient, specialist: RoomClient) -> None:
    old_peer = station.welcome["peer"]
    await station.drop()
    await specialist.wait_for(lambda: old_peer not in specialist.links)
    specialist.probe_messages.clear()
    await station.join()
    assert station.welcome["peer"] != old_peer
    assert [p["role"] for p in station.welcome["peers"]] == ["specialist"]
    link = await station.wait_frames(5)
    assert abs((link.luminance or 0) - SPECIALIST_LUMA) < 20
    await specialist.wait_for(lambda: station.welcome["peer"] in specialist.links)
    await specialist.wait_frames(5)
    await specialist.wait_for(lambda: "hello from station" in specialist.probe_messages)


def _clients(url_a: str, url_b: str, consult: Any) -> tuple[RoomClient, RoomClient]:
    cid = str(consult.external_id)
    station = RoomClient(url_a, cid, username="nurse", password=PASSWORD, luminance=STATION_LUMA)
    specialist = RoomClient(
        url_b, cid, username="specialist", password=PASSWORD, luminance=SPECIALIST_LUMA
    )
    return station, specialist


async def test_two_aiortc_peers_connect_see_each_other_and_recover_from_a_dropped_socket(
    start_daphne: Callable[..., Any], cast, consultation
) -> None:
    server = start_daphne("room-e2e")
    station, specialist = _clients(server.url, server.url, consultation)
    try:
        await _call_and_check(station, specialist)
        await _drop_rejoin_and_check(station, specialist)
    finally:
        await station.close()
        await specialist.close()


async def test_peers_on_two_daphne_processes_call_each_other(
    start_daphne: Callable[..., Any], cast, consultation
) -> None:
    one, two = start_daphne("room-e2e-a"), start_daphne("room-e2e-b")
    station, specialist = _clients(one.url, two.url, consultation)
    try:
        await _call_and_check(station, specialist)
        await _drop_rejoin_and_check(station, specialist)
    finally:
        await station.close()
        await specialist.close()
