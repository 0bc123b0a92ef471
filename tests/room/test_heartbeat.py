"""The heartbeat (docs/signaling.md "Heartbeat"): the server sweeps silent peers by itself,
a ping costs no query, and a swept peer may come back (consults/room/heartbeat.py).

A silent peer here is a client that keeps its socket open and stops sending."""

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.utils import timezone

from consults.models import Consultation
from consults.realtime.groups import room_group
from consults.room.models import RoomPeer, RoomState
from tests.room.conftest import Opener, Room

pytestmark = [pytest.mark.django_db(transaction=True)]
S = Consultation.Status
TTL = 2.0


@pytest.fixture
def short_ttl(settings: Any) -> float:
    settings.ROOM_PEER_TTL_SECONDS = TTL
    return TTL


class Pinger:
    """A live client: pings every 0.25 s and, as docs/signaling.md asks, sends `resync` when
    a `pong` carries a newer `rev` than the last presence frame it applied."""

    def __init__(self, room: Room, welcome: dict[str, Any]) -> None:
        self.room = room
        self.rev = welcome["rev"]
        self.resyncs = 0
        self.task = asyncio.ensure_future(self._ping())

    async def _ping(self) -> None:
        while True:
            await self.room.send({"type": "ping", "t": time.time()})
            await asyncio.sleep(0.25)

    async def expect(self, type_: str, within: float) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            frame = await self.room.recv(within=max(0.01, deadline - time.monotonic()))
            if frame["type"] in ("peer_joined", "peer_left", "room"):
                self.rev = max(self.rev, frame["rev"])
            elif frame["type"] == "pong" and frame["rev"] > self.rev:
                self.resyncs += 1
                await self.room.send({"type": "resync"})
            if frame["type"] == type_:
                return frame

    def stop(self) -> None:
        self.task.cancel()


@pytest.fixture
async def pingers() -> AsyncIterator[Callable[[Room, dict[str, Any]], Pinger]]:
    started: list[Pinger] = []

    def start(room: Room, welcome: dict[str, Any]) -> Pinger:
        started.append(Pinger(room, welcome))
        return started[-1]

    yield start
    for pinger in started:
        pinger.stop()


async def status_of(consult: Consultation) -> str:
    return await database_sync_to_async(lambda: Consultation.objects.get(pk=consult.pk).status)()


@pytest.mark.parametrize("run", range(20))
async def test_a_silent_peer_is_swept_the_others_hear_timeout_and_it_rejoins(
    open_room: Opener, cast, consultation, short_ttl, pingers, run
) -> None:
    station = await open_room(cast.nurse, consultation)
    s = await station.expect("welcome")
    silent_since = time.monotonic()
    specialist = await open_room(cast.specialist, consultation)
    p = await specialist.expect("welcome")
    live = pingers(specialist, p)
    assert await status_of(consultation) == S.IN_PROGRESS

    left = await live.expect("peer_left", within=TTL + 5)
    assert (left["peer"], left["reason"]) == (s["peer"], "timeout")
    assert time.monotonic() - silent_since < TTL + 5
    # The silent peer is told it timed out, with a code the clients reconnect on.
    assert await station.closed(within=2) == 4408
    assert [f["code"] for f in station.frames if f["type"] == "error"] == ["timed_out"]
    assert await status_of(consultation) == S.INTERRUPTED

    back = await open_room(cast.nurse, consultation)
    again = await back.expect("welcome")
    joined = await live.expect("peer_joined", within=3)
    assert joined["peer"] == again["peer"]
    assert [x["peer"] for x in again["peers"]] == [p["peer"]]
    assert await status_of(consultation) == S.IN_PROGRESS


def _ghost_row(cast: Any, consultation: Consultation) -> None:
    """The station's row written by another process, which then died: no disconnect, and
    nobody refreshes it."""
    state, _ = RoomState.objects.get_or_create(consultation=consultation)
    state.rev += 1
    state.save()
    RoomPeer.objects.create(
        consultation=consultation,
        peer_id="p-ghost",
        member=f"u:{cast.nurse.external_id}",
        role="station",
        name="Y tá",
        channel_name="gone-process.channel",
        joined_rev=state.rev,
        last_seen=timezone.now(),
    )
    Consultation.objects.filter(pk=consultation.pk).update(status=S.IN_PROGRESS)


async def test_a_crashed_processs_peer_is_swept_by_any_process_with_the_room(
    open_room: Opener, cast, consultation, short_ttl, pingers
) -> None:
    await database_sync_to_async(_ghost_row)(cast, consultation)
    specialist = await open_room(cast.specialist, consultation)
    welcome = await specialist.expect("welcome")
    assert [p["peer"] for p in welcome["peers"]] == ["p-ghost"]
    live = pingers(specialist, welcome)

    left = await live.expect("peer_left", within=TTL + 5)
    assert (left["peer"], left["reason"]) == ("p-ghost", "timeout")
    assert not await database_sync_to_async(RoomPeer.objects.filter(peer_id="p-ghost").exists)()
    assert await status_of(consultation) == S.INTERRUPTED


async def test_a_timeout_announced_after_the_resync_that_dropped_the_peer_still_reaches_it(
    open_room: Opener, cast, consultation, short_ttl, pingers
) -> None:
    """The ordering docs/signaling.md describes: another process removed the peer; this
    process learned the new `rev` (its periodic read) before the `left` event arrived, so
    the client saw it in a `pong`, resynced, and got a snapshot without the peer. The late
    `left` is still delivered."""
    await database_sync_to_async(_ghost_row)(cast, consultation)
    specialist = await open_room(cast.specialist, consultation)
    live = pingers(specialist, await specialist.expect("welcome"))

    def swept_elsewhere() -> int:
        RoomPeer.objects.filter(peer_id="p-ghost").delete()
        state = RoomState.objects.get(consultation=consultation)
        state.rev += 1
        state.save()
        return state.rev

    rev = await database_sync_to_async(swept_elsewhere)()
    snapshot = await live.expect("room", within=TTL)
    assert (snapshot["rev"], snapshot["peers"]) == (rev, [])
    assert live.resyncs == 1
    event = {"type": "room.presence", "event": "left", "peer": "p-ghost", "reason": "timeout"}
    await get_channel_layer().group_send(room_group(consultation.external_id), event | {"rev": rev})
    left = await live.expect("peer_left", within=2)
    assert (left["peer"], left["reason"], left["rev"]) == ("p-ghost", "timeout", rev)


async def test_a_live_peer_outlives_the_ttl_and_its_row_is_refreshed(
    open_room: Opener, cast, consultation, short_ttl, pingers
) -> None:
    specialist = await open_room(cast.specialist, consultation)
    welcome = await specialist.expect("welcome")
    live = pingers(specialist, welcome)
    past_ttl = timezone.now() + timedelta(seconds=TTL)

    def refreshed() -> bool:
        return RoomPeer.objects.get(peer_id=welcome["peer"]).last_seen > past_ttl

    # Refreshed by its process (every TTL/3), so no other process takes it for a crashed one.
    deadline = time.monotonic() + TTL * 3
    while not await database_sync_to_async(refreshed)():
        assert time.monotonic() < deadline, "last_seen was not refreshed"
        await asyncio.sleep(0.1)
    await live.expect("pong", within=2)
    assert [f for f in specialist.frames if f["type"] == "error"] == []


@contextlib.asynccontextmanager
async def queries_in_the_database_thread() -> AsyncIterator[list[str]]:
    """Every statement run by the thread the consumers' database calls go to."""
    seen: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    # `connection` is per thread: resolved inside the calls, in that thread.
    await database_sync_to_async(lambda: connection.execute_wrappers.append(count))()
    try:
        yield seen
    finally:
        await database_sync_to_async(lambda: connection.execute_wrappers.remove(count))()


@pytest.fixture
def no_background_batches(settings: Any) -> None:
    # The access re-check and the heartbeat's refresh would run queries of their own.
    settings.ROOM_REAUTH_SECONDS = 600
    settings.ROOM_PEER_TTL_SECONDS = 600


async def test_a_ping_runs_no_sql(
    open_room: Opener, cast, consultation, no_background_batches
) -> None:
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    async with queries_in_the_database_thread() as seen:
        for t in range(20):
            await station.send({"type": "ping", "t": t})
        assert [(await station.expect("pong"))["t"] for _ in range(20)] == list(range(20))
        assert seen == []
        await station.send({"type": "resync"})  # the counter does see that thread's queries
        await station.expect("room")
        assert seen != []


async def test_a_flood_is_refused_without_a_query(
    open_room: Opener, cast, consultation, no_background_batches
) -> None:
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    async with queries_in_the_database_thread() as seen:
        for _ in range(200):
            await station.send_raw(json.dumps({"type": "ping"}))
        assert await station.closed() == 4429
        assert seen == []


async def test_a_peer_whose_row_was_swept_elsewhere_is_closed_4408_not_replaced(
    open_room: Opener, cast, consultation, settings
) -> None:
    """Another process removed it (this one fell behind) and the push was lost: the access
    re-check finds no row and no newer connection of the same member."""
    settings.ROOM_REAUTH_SECONDS = 0.1
    station = await open_room(cast.nurse, consultation)
    s = await station.expect("welcome")
    await database_sync_to_async(RoomPeer.objects.filter(peer_id=s["peer"]).delete)()
    assert await station.closed() == 4408


async def test_a_connection_replaced_elsewhere_is_still_closed_4409_by_the_recheck(
    open_room: Opener, cast, consultation, settings
) -> None:
    """The same member joined again through another process and that push was lost: a
    newer connection of the member is in the room, so this one must not come back."""
    settings.ROOM_REAUTH_SECONDS = 0.1
    station = await open_room(cast.nurse, consultation)
    s = await station.expect("welcome")

    def replace_elsewhere() -> None:
        row = RoomPeer.objects.get(peer_id=s["peer"])
        row.peer_id, row.channel_name = "p-newer", "other-process.channel"
        row.save()

    await database_sync_to_async(replace_elsewhere)()
    assert await station.closed() == 4409
