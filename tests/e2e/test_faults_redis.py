"""Faults on real processes: the channel layer's Redis restarted in the middle of a call.

Two aiortc peers call each other through two daphne processes that share a private
redis-server (so every signaling frame between them crosses Redis). Redis is killed and started
again, empty: every room consumer loses its channel-layer read, logs it in one line (no
traceback), closes its socket with 4503 (service unavailable: reconnect) and runs its
disconnect; the clients reconnect with backoff, rejoin as new peers (no ghost stays),
renegotiate, and media flows again. Relayed frames get through the
new Redis with their sequence numbers started afresh.
"""

from collections.abc import Callable
from typing import Any

import pytest

from consults.models import Consultation
from consults.realtime.close import CloseCode
from tests.e2e.calls import (
    call_is_up,
    leave_and_wait_for_empty_room,
    room_peers,
    station_and_specialist,
)
from tests.e2e.servers import RedisServer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.usefixtures("loopback_ice"),
    pytest.mark.django_db(transaction=True),
]


async def test_a_call_recovers_from_a_redis_restart_reconnects_resyncs_and_media_flows_again(
    redis_server: RedisServer, start_daphne: Callable[..., Any], cast, consultation
) -> None:
    one = start_daphne("redis-fault-a", REDIS_URL=redis_server.url)
    two = start_daphne("redis-fault-b", REDIS_URL=redis_server.url)
    station, specialist = station_and_specialist(one.url, two.url, consultation)
    try:
        await station.join()
        await specialist.join()
        await call_is_up(station, specialist)
        await call_is_up(specialist, station)
        before = {station.welcome["peer"], specialist.welcome["peer"]}
        station.probe_messages.clear()
        specialist.probe_messages.clear()

        redis_server.restart()

        # The consumers lost their channel-layer connection and closed with the documented
        # reconnectable code. A first attempt may fail the same way (docs/signaling.md),
        # hence "at least".
        await station.wait_for(lambda: min(station.welcomes, specialist.welcomes) >= 2, 30)
        unavailable = CloseCode.SERVICE_UNAVAILABLE
        assert station.closed_codes[0] == specialist.closed_codes[0] == unavailable
        for server in (one, two):
            log = server.log_path.read_text()
            assert "Traceback" not in log, server.log_path
            assert "Redis failed during" in log, server.log_path
        await call_is_up(station, specialist)
        await call_is_up(specialist, station)
        after = {station.welcome["peer"], specialist.welcome["peer"]}
        assert not before & after

        # The renegotiation (offer one way, answer the other) crossed the new Redis between
        # the two processes; on the new connections, relayed frames are numbered from 1.
        relayed = sorted(
            [(f["type"], f["pseq"]) for f in client.connection_frames() if "pseq" in f]
            for client in (station, specialist)
        )
        assert relayed == [[("answer", 1)], [("offer", 1)]]
        assert station.links[specialist.welcome["peer"]].connected.is_set()
        assert specialist.links[station.welcome["peer"]].connected.is_set()
        assert station.seq_gaps == specialist.seq_gaps == 0

        # A resync gives the room as it is now: the two new connections, no ghost.
        seen = len(station.frames_in)
        await station.send({"type": "resync"})
        await station.wait_for(lambda: any(f["type"] == "room" for f in station.frames_in[seen:]))
        snapshot = next(f for f in station.frames_in[seen:] if f["type"] == "room")
        assert [p["peer"] for p in snapshot["peers"]] == [specialist.welcome["peer"]]
        assert snapshot["rev"] == station.last_rev
        assert snapshot["consultation"]["status"] == Consultation.Status.IN_PROGRESS
        assert await room_peers(consultation) == after
    finally:
        await leave_and_wait_for_empty_room(consultation, station, specialist)
