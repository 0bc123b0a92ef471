"""Faults on real processes: the daphne serving a consult killed (SIGKILL) and restarted.

A killed server runs no disconnect handler: its presence rows stay behind and its sockets
drop with 1006. The call itself is peer to peer and keeps flowing meanwhile; when the server
is back on the same port, the clients reconnect and rejoin as new peers (replacing their own
rows) and renegotiate. On the notes page, a section saved while the server is dead is kept on
the device and reaches the record exactly once after the reconnect.
"""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async

from consults.models import Consultation
from consults.notes.models import NoteRevision
from tests.e2e.browser import wait_for_js
from tests.e2e.calls import (
    call_is_up,
    leave_and_wait_for_empty_room,
    room_peers,
    station_and_specialist,
)
from tests.e2e.servers import Daphne

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("loopback_ice")
async def test_the_call_outlives_a_killed_server_and_the_peers_rejoin_when_it_is_back(
    start_daphne: Callable[..., Daphne], cast, consultation
) -> None:
    server = start_daphne("kill-room")
    station, specialist = station_and_specialist(server.url, server.url, consultation)
    try:
        await station.join()
        await specialist.join()
        await call_is_up(station, specialist)
        await call_is_up(specialist, station)
        before = {station.welcome["peer"], specialist.welcome["peer"]}
        station.probe_messages.clear()
        specialist.probe_messages.clear()

        server.stop(kill=True)
        await station.wait_for(lambda: station.closed_codes == specialist.closed_codes == [1006])
        # Media does not go through the server: both still decode the other's camera.
        links = [station.only_link(), specialist.only_link()]
        counts = [link.frames for link in links]
        await station.wait_for(
            lambda: all(link.frames > n + 30 for link, n in zip(links, counts, strict=True))
        )
        assert station.welcomes == specialist.welcomes == 1  # nobody to rejoin yet

        await asyncio.to_thread(server.start)
        await station.wait_for(lambda: station.welcomes == specialist.welcomes == 2, within=40)
        after = {station.welcome["peer"], specialist.welcome["peer"]}
        assert not before & after
        await call_is_up(station, specialist)
        await call_is_up(specialist, station)
        assert station.seq_gaps == specialist.seq_gaps == 0
        # The killed server's rows were replaced, not left as ghosts; the consult goes on.
        assert await room_peers(consultation) == after
        status = await database_sync_to_async(
            lambda: Consultation.objects.get(pk=consultation.pk).status
        )()
        assert status == Consultation.Status.IN_PROGRESS
    finally:
        await leave_and_wait_for_empty_room(consultation, station, specialist)


def open_notes(browser: Any, login: Any, server: Daphne, username: str, consultation: Any) -> Any:
    page = browser.new_context(locale="vi-VN").new_page()
    login(page, server, username)
    page.goto(f"{server.url}/consultations/{consultation.external_id}/notes/")
    page.wait_for_selector("#link-state.ok", timeout=10_000)
    return page


@pytest.mark.browser
def test_a_section_saved_while_the_server_is_killed_reaches_the_record_once_when_it_is_back(
    cast: Any, consultation: Any, start_daphne: Callable[..., Daphne], browser: Any, login: Any
) -> None:
    text = "Sốt 38,5 °C từ chiều qua, ho khan"
    server = start_daphne("kill-notes")
    nurse = open_notes(browser, login, server, "nurse", consultation)
    specialist = open_notes(browser, login, server, "specialist", consultation)
    key = f"notes-pending:{consultation.external_id}:{cast.nurse.external_id}"
    try:
        server.stop(kill=True)
        for page in (nurse, specialist):
            page.wait_for_selector("#link-state.warn", timeout=10_000)
        nurse.fill("#section-history textarea[name=text]", text)
        nurse.click("#section-history button.save")
        nurse.wait_for_selector("#section-history .status.unsent", timeout=5_000)
        kept = json.loads(nurse.evaluate("k => localStorage.getItem(k)", key))
        assert kept["history"]["content"]["text"] == text
        assert not NoteRevision.objects.filter(section__consultation=consultation).exists()

        server.start()
        for page in (nurse, specialist):
            page.wait_for_selector("#link-state.ok", timeout=30_000)
        # Acknowledged: the page forgets the kept edit; the specialist's page shows it.
        wait_for_js(nurse, f"localStorage.getItem({key!r}) === '{{}}'", timeout=15)
        wait_for_js(
            specialist,
            "document.querySelector('#section-history textarea[name=text]').value === "
            + json.dumps(text),
            timeout=15,
        )
        revisions = NoteRevision.objects.filter(section__consultation=consultation)
        assert [(r.outcome, r.content["text"], r.author_id) for r in revisions] == [
            ("applied", text, cast.nurse.pk)
        ]
        assert revisions[0].client_edit_id == kept["history"]["client_edit_id"]
    finally:
        nurse.context.close()
        specialist.context.close()
