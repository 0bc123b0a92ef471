"""The specialist's agenda tells them their patient is checked in (alerts.js): a chime, a
count on the tab's title, a desktop notification and the row updated, within seconds of the
station's check-in over the API; and the waiting list writes station time on a UTC browser."""

import json
import time
import urllib.request
from datetime import datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from consults.models import Consultation
from tests import factories
from tests.e2e.browser import wait_for_js
from tests.e2e.conftest import PASSWORD, Daphne

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TITLE = "Bệnh nhân đã có mặt, đang chờ bác sĩ"
CHECKED_IN = "Đã tiếp đón (đang chờ)"

# Counts what the page does with the browser's sound and notifications. Runs before the page's
# scripts (outside its CSP).
SPIES = """
window.__alerts = { tones: 0, notes: [], asked: 0 };
const RealNotification = window.Notification;
class SpyNotification extends RealNotification {
  constructor(title, options) {
    window.__alerts.notes.push({ title, body: options && options.body });
    super(title, options);
  }
}
Object.defineProperty(SpyNotification, "permission", { get: () => RealNotification.permission });
SpyNotification.requestPermission = () => {
  window.__alerts.asked += 1;
  return Promise.resolve(RealNotification.permission);
};
window.Notification = SpyNotification;
// While `offline` is set, the page's sockets go to a path that refuses them (a lost link).
window.__sockets = [];
const RealWebSocket = window.WebSocket;
window.WebSocket = class extends RealWebSocket {
  constructor(url, ...rest) {
    const lost = window.__alerts.offline;
    super(lost ? url.replace("/ws/notifications/", "/ws/nowhere/") : url, ...rest);
    window.__sockets.push(this);
  }
};
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  window.__alerts.tones += 1;
  return start.apply(this, args);
};
"""


def today_at(hour: int) -> datetime:
    return datetime.combine(timezone.localdate(), clock(hour), tzinfo=ZONE)


def consult_due(cast: Any) -> Consultation:
    """A booked consult of today that the station may check in now: it started five minutes
    ago (at midnight at the earliest, so that it stays on today's agenda)."""
    midnight = datetime.combine(timezone.localdate(), clock(0), tzinfo=ZONE)
    start = max(timezone.now() - timedelta(minutes=5), midnight).replace(second=0, microsecond=0)
    return factories.make_consultation(
        patient=cast.patient,
        specialist=cast.specialist,
        hospital=cast.hospital,
        room=cast.room,
        start=start,
    )


def consult_at(cast: Any, hour: int, status: str = Consultation.Status.BOOKED) -> Consultation:
    return factories.make_consultation(
        patient=cast.patient,
        specialist=cast.specialist,
        hospital=cast.hospital,
        room=cast.room,
        start=today_at(hour),
        status=status,
    )


def api_check_in(server: Daphne, consult: Consultation) -> None:
    """The station's nurse checks the patient in over the API, as the station's app does."""

    def post(path: str, body: dict[str, str] | None, token: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        request = urllib.request.Request(
            f"{server.url}/api/v1/{path}",
            data=json.dumps(body or {}).encode(),
            headers=headers,
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    token = post("auth/token/", {"username": "nurse", "password": PASSWORD})["token"]
    answer = post(f"consultations/{consult.external_id}/check-in/", None, token)
    assert answer["status"] == "checked_in"


def open_agenda(
    browser: Any, login: Any, server: Daphne, path: str = "/agenda/", **options: Any
) -> Any:
    context = browser.new_context(locale="vi-VN", **options)
    context.add_init_script(SPIES)
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    login(page, server, "specialist")
    page.goto(f"{server.url}{path}")
    page.wait_for_selector("#alerts[data-live]", timeout=10_000)
    return page


def row(page: Any, consult: Consultation) -> Any:
    return page.locator(f"#agenda tr[data-consultation='{consult.external_id}']")


def test_the_specialist_hears_sees_and_is_notified_when_their_patient_is_checked_in(
    cast: Any, daphne_server: Daphne, browser: Any, login: Any, screenshot: Any
) -> None:
    consult = consult_due(cast)
    page = open_agenda(browser, login, daphne_server, permissions=["notifications"])
    try:
        title = page.title()
        assert CHECKED_IN not in row(page, consult).inner_text()
        assert page.evaluate(
            "[window.__alerts.tones, window.__alerts.notes, window.__alerts.asked]"
        ) == [0, [], 0]
        assert page.locator("#chime-toggle").get_attribute("aria-pressed") == "true"
        assert page.locator("#notify-ask").is_hidden()  # already allowed: nothing to ask

        began = time.monotonic()
        api_check_in(daphne_server, consult)
        wait_for_js(
            page,
            "window.__alerts.tones > 0 && window.__alerts.notes.length > 0"
            " && document.title.startsWith('(1) ')",
            timeout=5,
        )
        row(page, consult).locator(".badge", has_text=CHECKED_IN).wait_for(timeout=5_000)
        print(f"check-in → chime, badge, notification, row: {time.monotonic() - began:.2f} s")

        assert page.title() == f"(1) {title}"
        [note] = page.evaluate("window.__alerts.notes")
        assert note["title"] == TITLE
        at = timezone.localtime(consult.start).strftime("%H:%M")
        assert note["body"] == f"{cast.station.name} · {at}"  # station time, no patient name
        assert cast.patient.full_name not in json.dumps(note, ensure_ascii=False)
        link = row(page, consult).locator("a[data-action=room]")
        assert link.get_attribute("href") == f"/room/{consult.external_id}/prejoin/"
        assert link.inner_text() == "Vào cuộc gọi"
        assert page.evaluate("window.__alerts.asked") == 0  # never asked on load
        screenshot(page, "checked-in")

        page.evaluate("window.dispatchEvent(new Event('focus'))")  # the specialist looks
        assert page.title() == title
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        page.context.close()


def test_a_specialist_who_switched_the_chime_off_is_told_without_a_sound(
    cast: Any, daphne_server: Daphne, browser: Any, login: Any
) -> None:
    consult = consult_due(cast)
    page = open_agenda(browser, login, daphne_server, permissions=["notifications"])
    try:
        page.click("#chime-toggle")
        assert page.locator("#chime-toggle").get_attribute("aria-pressed") == "false"
        page.reload()  # the switch is remembered
        page.wait_for_selector("#alerts[data-live]", timeout=10_000)
        assert page.locator("#chime-toggle").get_attribute("aria-pressed") == "false"

        api_check_in(daphne_server, consult)
        wait_for_js(page, "window.__alerts.notes.length > 0 && document.title.startsWith('(1) ')")
        row(page, consult).locator(".badge", has_text=CHECKED_IN).wait_for(timeout=5_000)
        assert page.evaluate("window.__alerts.tones") == 0
    finally:
        page.context.close()


# The link drops: the page sees what a real drop gives, 1006 (a close of its own would be 1000,
# after which a page does not reconnect), and reconnects to nowhere until `offline` is unset.
DROP = """
window.__alerts.offline = true;
const socket = window.__sockets.at(-1);
const closed = socket.onclose;
socket.onclose = null;
socket.close();
closed({ code: 1006 });
"""


def test_a_check_in_while_the_socket_was_down_is_announced_when_it_is_back(
    cast: Any, daphne_server: Daphne, browser: Any, login: Any
) -> None:
    consult = consult_due(cast)
    page = open_agenda(browser, login, daphne_server, permissions=["notifications"])
    try:
        page.evaluate(DROP)
        wait_for_js(page, "!document.querySelector('#alerts').dataset.live", timeout=5)
        api_check_in(daphne_server, consult)  # no socket is there to hear it
        assert page.evaluate("window.__alerts.notes.length") == 0
        page.evaluate("window.__alerts.offline = false")
        wait_for_js(page, "window.__alerts.notes.length > 0 && document.title.startsWith('(1) ')")
        row(page, consult).locator(".badge", has_text=CHECKED_IN).wait_for(timeout=5_000)
        assert page.evaluate("window.__alerts.notes.length") == 1
    finally:
        page.context.close()


def test_notifications_are_asked_for_only_from_the_button_with_an_explanation(
    cast: Any, daphne_server: Daphne, browser: Any, login: Any
) -> None:
    consult_at(cast, 16)
    page = open_agenda(browser, login, daphne_server)
    try:
        assert page.evaluate("Notification.permission") == "default"
        ask = page.locator("#notify-ask")
        assert ask.is_visible()
        assert "không bao giờ ghi tên bệnh nhân" in ask.inner_text()
        assert page.evaluate("window.__alerts.asked") == 0
        page.click("#notify-allow")
        wait_for_js(page, "window.__alerts.asked === 1", timeout=5)
    finally:
        page.context.close()


def test_the_waiting_list_writes_station_time_on_a_browser_set_to_utc(
    cast: Any, daphne_server: Daphne, browser: Any, login: Any
) -> None:
    consult = consult_at(cast, 14, status=Consultation.Status.CHECKED_IN)
    context = browser.new_context(locale="vi-VN", timezone_id="UTC")
    page = context.new_page()
    try:
        login(page, daphne_server, "specialist")
        page.goto(f"{daphne_server.url}/room/waiting/")
        item = page.locator(f"#waiting-list li[data-consultation='{consult.external_id}']")
        item.wait_for(timeout=10_000)
        assert page.evaluate("new Date().getTimezoneOffset()") == 0  # the browser is on UTC
        day = timezone.localdate().strftime("%d/%m/%Y")
        assert f"{day} 14:00" in item.inner_text()
        assert "07:00" not in item.inner_text()
    finally:
        context.close()


def test_the_specialists_home_shows_the_check_in_live_with_the_way_to_the_pre_join(
    cast: Any, daphne_server: Daphne, browser: Any, login: Any
) -> None:
    consult = consult_due(cast)
    page = open_agenda(browser, login, daphne_server, path="/", permissions=["notifications"])
    try:
        home = page.locator(f"tr[data-consultation='{consult.external_id}']")
        assert CHECKED_IN not in home.inner_text()
        api_check_in(daphne_server, consult)
        home.locator(".badge", has_text=CHECKED_IN).wait_for(timeout=5_000)
        wait_for_js(page, "document.title.startsWith('(1) ')", timeout=5)
        link = home.locator("a[data-action=room]")
        assert link.get_attribute("href") == f"/room/{consult.external_id}/prejoin/"
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        page.context.close()
