"""Access re-checks of every live room connection of this process, in one batch.

Every ROOM_REAUTH_SECONDS one task per event loop re-reads, in four queries, whether each
connection is still in its room, its consult still joinable and its participant still allowed
(`access.denied_among`), and, in one more, whether the browser sessions the connections were
opened with are idle or gone (`clinics.sessions.session_states`: 4401 `session_expired` or
`logged_out`), and closes the denied ones. The relay path then needs no query; a
per-connection check every few seconds cost 400 sockets 80 queries a second (bench/).
Revocations made by the room's own services are also pushed at once
(`consults.realtime.send.room_kick`).

A frame whose connection was not re-checked for three intervals (the database thread is
busy: a join storm) waits for a batch, `check_now`, which runs the next one at once or joins
the one already running: one batch for the whole process, never one query per connection,
which under load queued behind the very work that made the batch late (bench/RESULTS.md).
"""

import asyncio
import time
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.conf import settings

from clinics.sessions import session_states
from consults.realtime.close import CloseCode, RoomDenied
from consults.realtime.guard import SESSION_REFUSALS
from consults.room import presence
from consults.room.access import Participant, denied_among
from telehealth.codes import Code


class Watched(Protocol):
    peer: str
    participant: Participant | None
    session_key: str | None
    checked_at: float
    loop: asyncio.AbstractEventLoop

    async def deny(self, denied: RoomDenied) -> None: ...


_live: dict[str, Watched] = {}
_sweepers: dict[asyncio.AbstractEventLoop, "asyncio.Task[None]"] = {}
_running: dict[asyncio.AbstractEventLoop, "asyncio.Task[bool]"] = {}


def interval() -> float:
    return float(settings.ROOM_REAUTH_SECONDS)


def watch(consumer: Watched) -> None:
    _live[consumer.peer] = consumer
    loop = consumer.loop
    task = _sweepers.get(loop)
    if task is None or task.done():
        _sweepers[loop] = loop.create_task(_sweep_forever(loop))


def unwatch(peer: str) -> None:
    _live.pop(peer, None)


async def _sweep_forever(loop: asyncio.AbstractEventLoop) -> None:
    while True:
        await asyncio.sleep(interval())
        if not await check_now(loop):
            _sweepers.pop(loop, None)
            return


async def check_now(loop: asyncio.AbstractEventLoop) -> bool:
    """Re-check this loop's connections now, or wait for the batch already running.
    False when there was nobody to check."""
    task = _running.get(loop)
    if task is None or task.done():
        task = _running[loop] = loop.create_task(_check_once(loop))
    # A waiting frame whose socket closes must not cancel the batch the others wait for.
    return await asyncio.shield(task)


def _denied(
    items: list[tuple[str, Participant]], sessions: dict[str, str]
) -> dict[str, RoomDenied]:
    """`denied_among`, telling a connection removed by the heartbeat sweep from a replaced
    one: both have lost their row, but only a replaced one has a newer connection of the
    same member in the room. The swept one (its process fell behind, or the push that closes
    it was lost) is closed 4408, reconnectable; a replaced one must not come back, or the
    two would replace each other in turn."""
    denied = denied_among(items)
    lost = [(peer, p) for peer, p in items if peer in denied and denied[peer].code == Code.REPLACED]
    if lost:
        present = presence.members_present([(p.consultation.pk, p.member) for _, p in lost])
        for peer, p in lost:
            if (p.consultation.pk, p.member) not in present:
                denied[peer] = RoomDenied(CloseCode.TIMED_OUT, Code.TIMED_OUT)
    states = session_states(sessions.values())
    for peer, key in sessions.items():
        refusal = SESSION_REFUSALS.get(states[key])
        if refusal is not None and peer not in denied:
            denied[peer] = refusal
    return denied


async def _check_once(loop: asyncio.AbstractEventLoop) -> bool:
    mine = {peer: c for peer, c in _live.items() if c.loop is loop and c.participant}
    if not mine:
        return False
    items: list[tuple[str, Any]] = [(peer, c.participant) for peer, c in mine.items()]
    sessions = {peer: c.session_key for peer, c in mine.items() if c.session_key}
    denied = await database_sync_to_async(_denied)(items, sessions)
    now = time.monotonic()
    for peer, consumer in mine.items():
        if peer in denied:
            unwatch(peer)
            await consumer.deny(denied[peer])
        else:
            consumer.checked_at = now
    return True
