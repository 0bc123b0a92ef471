"""Redis behind Sentinel, its primary killed during a call (docs/deploy.md "Redis Sentinel").

Two daphne processes reach Redis only through three sentinels. The primary is killed
(SIGKILL) while the two peers are in a call and the nurse keeps writing the notes: the
sentinels promote the replica, the sockets come back by themselves (4503, then a reconnect
that finds the new primary), the call is up again, and every edit the server acknowledged
is in the record, once.
"""

import asyncio
import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from websockets.asyncio.client import connect

from consults.notes.models import NoteRevision
from tests.deploy.sentinels import SentinelSet
from tests.e2e.calls import call_is_up, leave_and_wait_for_empty_room, station_and_specialist
from tests.e2e.servers import Daphne

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.usefixtures("loopback_ice"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelSet]:
    if not shutil.which("redis-sentinel"):
        pytest.fail("redis-sentinel is missing: apt-get install redis-sentinel")
    started = SentinelSet(tmp_path)
    try:
        yield started.start()
    finally:
        started.stop()


def state_revision(state: dict[str, Any]) -> int:
    history = [s for s in state["sections"] if s["section"] == "history"]
    return int(history[0]["revision"]) if history else 0


class NotesWriter:
    """Writes the history section again and again over the notes socket, as the notes page
    does: an edit not acknowledged is kept and resent (same client_edit_id) after a reconnect."""

    def __init__(self, server: Daphne, cookie: str, consultation: Any) -> None:
        self.url = f"{server.ws_url}/ws/consultations/{consultation.external_id}/notes/"
        self.origin, self.cookie = server.url, cookie
        self.acked: list[str] = []
        self.reconnects = 0
        self.errors: list[str] = []
        self.revision = 0

    async def _connect(self) -> Any:
        while True:
            try:
                ws = await connect(
                    self.url,
                    origin=self.origin,  # type: ignore[arg-type]
                    additional_headers={"Cookie": f"sessionid={self.cookie}"},
                )
                for _ in range(5):  # notes.state and chat.state, in either order
                    state = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if state.get("type") == "notes.state":
                        self.revision = state_revision(state)
                        return ws
                    self.errors.append(str(state))
                await ws.close()
            except Exception as error:  # not back yet: retry
                self.errors.append(repr(error))
            await asyncio.sleep(0.3)

    async def write(self, count: int, within: float) -> None:
        ws = await self._connect()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        n = 0
        while len(self.acked) < count:
            assert loop.time() < deadline, f"{len(self.acked)} of {count} edits acknowledged"
            edit = f"edit-{n}"
            frame = {
                "type": "note.save",
                "section": "history",
                "content": {"text": f"Bệnh sử, lần sửa {n}"},
                "base_revision": self.revision,
                "client_edit_id": edit,
            }
            try:
                await ws.send(json.dumps(frame))
                while True:
                    reply = json.loads(await asyncio.wait_for(ws.recv(), 3))
                    if reply.get("client_edit_id") == edit and reply["type"] == "note.saved":
                        break
                self.acked.append(edit)
                self.revision = reply["revision"]
                n += 1
            except Exception:  # the socket dropped, or no answer: reconnect, resend the same edit
                with contextlib.suppress(Exception):
                    await ws.close()
                self.reconnects += 1
                ws = await self._connect()
            await asyncio.sleep(0.1)
        await ws.close()


async def test_killing_the_primary_promotes_the_replica_and_the_call_and_notes_go_on(
    sentinels: SentinelSet, start_daphne: Any, cast: Any, consultation: Any
) -> None:
    one = await asyncio.to_thread(start_daphne, "sentinel-a", **sentinels.env)
    two = await asyncio.to_thread(start_daphne, "sentinel-b", **sentinels.env)
    station, specialist = station_and_specialist(one.url, two.url, consultation)
    try:
        await station.join()
        await specialist.join()
        await call_is_up(station, specialist)
        await call_is_up(specialist, station)
        # The server rehashed the nurse's password at her token login: a session must carry
        # the hash as it is now in the database.
        await database_sync_to_async(cast.nurse.refresh_from_db)()
        client = Client()
        await database_sync_to_async(client.force_login)(cast.nurse)
        writer = NotesWriter(two, client.cookies["sessionid"].value, consultation)
        writing = asyncio.ensure_future(writer.write(count=40, within=90))
        try:
            await station.wait_for(lambda: len(writer.acked) >= 5, 20)
        except TimeoutError:
            raise AssertionError(writer.errors[-3:]) from None

        old = sentinels.primary.port
        sentinels.primary.kill()
        await asyncio.to_thread(
            sentinels.wait, lambda: sentinels.master_port() == sentinels.replica.port, 30
        )
        assert sentinels.master_port() != old
        # The sockets come back by themselves and the call is up again over the new primary.
        await station.wait_for(lambda: min(station.welcomes, specialist.welcomes) >= 2, 40)
        await call_is_up(station, specialist)
        await call_is_up(specialist, station)
        await writing
        assert writer.reconnects >= 1  # the notes socket went through the failover too

        revisions = await database_sync_to_async(
            lambda: list(
                NoteRevision.objects.filter(
                    section__consultation=consultation, outcome="applied"
                ).values_list("client_edit_id", flat=True)
            )
        )()
        assert sorted(revisions) == sorted(writer.acked)  # each acked edit, once; none lost
    finally:
        await leave_and_wait_for_empty_room(consultation, station, specialist)
