"""The heartbeat of this process's room connections, swept by the process itself
(docs/signaling.md "Heartbeat").

A `ping` costs no query: the guard stamps each frame's arrival (`Inbox.last_frame_at`) and
`pong` is answered from memory. Writing `last_seen` on every ping made each one a statement
on the process's one database thread, so four sockets flooding pings slowed every other
room's (bench/RESULTS.md). Instead one task per event loop, every `tick()` seconds:

- closes the connections of this process silent for ROOM_PEER_TTL_SECONDS with 4408
  `timed_out` (reconnectable) and removes them from presence: a query only when one is silent;
- every TTL/3 refreshes the `last_seen` of its live connections in one statement, so other
  processes can tell a live peer from a crashed process's;
- every TTL/6 removes the rows not refreshed for a TTL wherever they are (a crashed
  process's peers), and reads the presence revision of its rooms, which `pong` carries.

So a peer silent past the TTL is gone within TTL + `tick()` from its own process, and a
crashed process's within TTL + TTL/6 (35 s with the defaults) from any other that has a
connection. The others get `peer_left` (`timeout`) through the room's group.
"""

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from consults.realtime.close import CloseCode, RoomDenied
from consults.realtime.groups import room_group
from consults.realtime.inbox import Inbox
from consults.room import presence
from consults.room.access import Participant
from telehealth.codes import Code


class Beating(Protocol):
    peer: str
    participant: Participant | None
    loop: asyncio.AbstractEventLoop
    inbox: Inbox

    async def deny(self, denied: RoomDenied) -> None: ...


log = logging.getLogger(__name__)
_live: dict[str, Beating] = {}
_sweepers: dict[asyncio.AbstractEventLoop, "asyncio.Task[None]"] = {}
_revs: dict[int, int] = {}  # consultation pk → the newest presence revision this process knows


def ttl() -> float:
    return float(settings.ROOM_PEER_TTL_SECONDS)


def tick() -> float:
    return min(1.0, ttl() / 10)


def watch(consumer: Beating, *, rev: int) -> None:
    """Sweep this connection from now on; `rev` is the room's revision at its join."""
    assert consumer.participant is not None
    _live[consumer.peer] = consumer
    saw_rev(consumer.participant.consultation.pk, rev)
    loop = consumer.loop
    task = _sweepers.get(loop)
    if task is None or task.done():
        _sweepers[loop] = loop.create_task(_sweep_forever(loop))


def unwatch(peer: str) -> None:
    _live.pop(peer, None)


def room_rev(consultation_pk: int) -> int:
    return _revs.get(consultation_pk, 0)


def saw_rev(consultation_pk: int, rev: int) -> None:
    _revs[consultation_pk] = max(rev, _revs.get(consultation_pk, 0))


async def departures_announce(consultation_id: str, departures: list[presence.Departure]) -> None:
    """Tell the room who left. A peer removed for silence is also told, wherever its socket
    is: if it is still there (its process alive but late), it closes 4408 and comes back."""
    layer = get_channel_layer()
    assert layer is not None
    for gone in departures:
        await layer.group_send(
            room_group(consultation_id),
            {
                "type": "room.presence",
                "event": "left",
                "peer": gone.peer,
                "reason": gone.reason,
                "rev": gone.rev,
            },
        )
        if gone.reason == "timeout":
            await layer.send(gone.channel_name, {"type": "room.timed_out"})


async def _sweep_forever(loop: asyncio.AbstractEventLoop) -> None:
    started = time.monotonic()
    due = {"sweep": started + ttl() / 6, "refresh": started + ttl() / 3}
    while True:
        await asyncio.sleep(tick())
        mine = {peer: c for peer, c in _live.items() if c.loop is loop and c.participant}
        if not mine:
            _sweepers.pop(loop, None)
            return
        try:
            await _sweep_once(mine, due)
        except Exception:
            # The database or Redis is away: the next tick tries again; dying here would
            # leave the process unswept until its next join.
            log.exception("heartbeat sweep failed")


async def _sweep_once(mine: dict[str, Beating], due: dict[str, float]) -> None:
    now = time.monotonic()
    silent = [peer for peer, c in mine.items() if now - c.inbox.last_frame_at > ttl()]
    alive = [peer for peer in mine if peer not in silent]
    if now >= due["refresh"]:
        due["refresh"] = now + ttl() / 3
        await database_sync_to_async(presence.peers_refresh)(peer_ids=alive)
    sweep = now >= due["sweep"]
    if silent or sweep:
        await _expire(silent, alive)
    for peer in silent:
        unwatch(peer)
        await mine[peer].deny(RoomDenied(CloseCode.TIMED_OUT, Code.TIMED_OUT))
    if sweep:
        due["sweep"] = now + ttl() / 6
        await _read_revs(mine.values())


async def _expire(silent: list[str], alive: list[str]) -> None:
    removed = await database_sync_to_async(presence.peers_expire)(silent=silent, alive=alive)
    for consult, departures in removed:
        saw_rev(consult.pk, departures[-1].rev)
        await departures_announce(str(consult.external_id), departures)


def _rooms(consumers: Iterable[Beating]) -> set[int]:
    return {c.participant.consultation.pk for c in consumers if c.participant}


async def _read_revs(consumers: Iterable[Beating]) -> None:
    revs = await database_sync_to_async(presence.room_revs)(
        consultation_pks=sorted(_rooms(consumers))
    )
    for pk in _revs.keys() - _rooms(_live.values()):
        del _revs[pk]  # no connection of this process is in that room any more
    for pk, rev in revs.items():
        saw_rev(pk, rev)
