"""axe-core on the consult's pages, at a station PC's 1366×768 and a phone's 360×740: pre-join,
the consult screen during a call, the ended screen, notes, agenda and booking report no serious
or critical violation. axe is installed by the test (tests/e2e/axe.py, decision 45). The
screenshots of every page checked go to artifacts/."""

from typing import Any

import pytest
from django.utils import timezone

from consults.models import Consultation
from consults.room.models import RoomPeer
from tests.e2e.axe import audit
from tests.e2e.browser import wait_for_js
from tests.e2e.test_room_screen import in_viewport
from tests.room.test_room_browser import frames_decoded, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 360, "height": 740}}


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_the_consult_pages_have_no_serious_or_critical_axe_violation(
    size: str,
    daphne_server: Any,
    browser: Any,
    login: Any,
    screenshot: Any,
    cast: Any,
    consultation: Consultation,
) -> None:
    Consultation.objects.filter(pk=consultation.pk).update(reason="Đau ngực trái 2 ngày")
    room = f"{daphne_server.url}/room/{consultation.external_id}/"
    found: dict[str, list[str]] = {}

    def check(page: Any, name: str) -> None:
        screenshot(page, f"{name}-{size}")
        found[name] = audit(page)

    contexts = [
        browser.new_context(locale="vi-VN", viewport=VIEWPORTS[size], bypass_csp=True)
        for _ in range(2)
    ]
    try:
        station, specialist = (c.new_page() for c in contexts)
        login(station, daphne_server, "nurse")
        login(specialist, daphne_server, "specialist")

        # The consult's day and week: rows with their actions (check-in, join), not an empty day.
        day = timezone.localtime(consultation.start).date().isoformat()
        for page, who in ((station, "station"), (specialist, "specialist")):
            page.goto(f"{daphne_server.url}/agenda/?day={day}")
            page.wait_for_selector("tr[data-consultation]")
            check(page, f"agenda-{who}")
        specialist.goto(f"{daphne_server.url}/agenda/?day={day}&span=week")
        check(specialist, "agenda-week")
        station.goto(f"{daphne_server.url}/book/")
        check(station, "booking")
        station.goto(f"{daphne_server.url}/consultations/{consultation.external_id}/notes/")
        station.wait_for_selector("#section-history textarea")
        check(station, "notes")

        station.goto(f"{room}prejoin/")
        wait_for_js(station, "window.prejoinDebug && window.prejoinDebug.live() === 2")
        check(station, "prejoin")
        station.click("#join")
        station.wait_for_url(room)
        specialist.goto(room)
        for page in (station, specialist):
            wait_until(lambda page=page: frames_decoded(page) > 10, within=30)
            assert in_viewport(page, ".controls button")  # no scrolling to reach them
        wait_for_js(specialist, "document.querySelector('#quality').dataset.level !== 'unknown'")
        check(station, "call-station")
        check(specialist, "call-specialist")
        specialist.click("#tab-chat")
        check(specialist, "chat-specialist")

        specialist.once("dialog", lambda dialog: dialog.accept())
        specialist.click("#end")
        for page, who in ((station, "station"), (specialist, "specialist")):
            wait_for_js(page, "window.roomDebug.ended()")
            check(page, f"ended-{who}")
    finally:
        for context in contexts:
            context.close()
        peers = RoomPeer.objects.filter(consultation=consultation)
        wait_until(lambda: not peers.exists(), within=15)

    assert {name: v for name, v in found.items() if v} == {}
    assert len(found) == 11


def test_the_audit_reports_a_serious_violation_when_there_is_one(
    daphne_server: Any, browser: Any
) -> None:
    context = browser.new_context(locale="vi-VN", bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(f"{daphne_server.url}/login/")
        assert audit(page) == []
        page.evaluate(
            "document.querySelector('main').append(Object.assign("
            "document.createElement('button'), { className: 'icon' }))"
        )
        found = audit(page)
        assert len(found) == 1, found
        assert found[0].startswith("critical button-name"), found
    finally:
        context.close()
