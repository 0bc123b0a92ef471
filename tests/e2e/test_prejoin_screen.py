"""The pre-join screen in Chromium (fake camera and microphone): device choice, the live
microphone level, the network test's verdict in words, the choice kept across a reload, then
"Vào phòng" into a call with video both ways and no track of the screen left live."""

from typing import Any

import pytest

from consults.models import Consultation
from consults.room.models import RoomPeer
from tests.e2e.browser import wait_for_js
from tests.e2e.test_room_screen import RECORD_MEDIA
from tests.room.test_room_browser import frames_decoded, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 740}
LIVE_TRACKS = "__media.tracks.filter((t) => t.readyState === 'live').length"


def open_prejoin(browser: Any, login: Any, server: Any, username: str, consult: Any) -> Any:
    context = browser.new_context(locale="vi-VN", viewport=DESKTOP)
    context.add_init_script(RECORD_MEDIA)
    page = context.new_page()
    page.on("pageerror", lambda exc: print(f"[{username}] page error: {exc}"))
    login(page, server, username)
    page.goto(f"{server.url}/room/{consult.external_id}/prejoin/")
    wait_for_js(page, "window.prejoinDebug && window.prejoinDebug.live() === 2")
    return page


def options(page: Any, select: str) -> list[str]:
    return list(page.eval_on_selector_all(f"{select} option", "(os) => os.map((o) => o.value)"))


def test_the_pre_join_screen_checks_the_devices_and_the_link_then_joins_with_them(
    daphne_server: Any,
    browser: Any,
    login: Any,
    screenshot: Any,
    cast: Any,
    consultation: Consultation,
) -> None:
    station = open_prejoin(browser, login, daphne_server, "nurse", consultation)
    specialist = None
    try:
        assert station.inner_text("h1") == "Trước khi vào phòng"
        cameras, mics = options(station, "#pj-camera"), options(station, "#pj-mic")
        assert len(cameras) >= 1, cameras
        assert len(mics) >= 1, mics
        for control in ("#pj-camera", "#pj-mic", "#start", "#join"):
            assert station.locator(control).is_visible(), control
        assert station.inner_text("label[for=pj-camera]") == "Camera"
        meter = station.locator("#pj-meter")
        assert meter.get_attribute("role") == "meter"
        # The fake microphone plays a beep: the level moves above 0.
        wait_for_js(station, "Number(document.querySelector('#pj-meter').ariaValueNow) > 0")

        # Another microphone (or the same one, if there is only one) is kept for next time.
        station.select_option("#pj-mic", mics[-1])
        wait_for_js(station, "window.prejoinDebug.live() === 2")
        station.reload()
        wait_for_js(station, "window.prejoinDebug && window.prejoinDebug.live() === 2")
        assert station.input_value("#pj-mic") == mics[-1]
        assert station.evaluate("JSON.parse(localStorage['room-devices']).audioinput") == mics[-1]

        # The keyboard reaches the test button, and shows where it is.
        for _ in range(40):
            station.keyboard.press("Tab")
            if station.evaluate("document.activeElement.id") == "start":
                break
        assert station.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
        station.keyboard.press("Enter")
        result = wait_for_js(station, "window.precallResult", timeout=35)
        assert result["verdict"] in {"pass", "warn", "fail"}
        verdict = station.inner_text("#verdict")
        assert verdict == {"pass": "Tốt", "warn": "Trung bình", "fail": "Kém"}[result["verdict"]]
        assert result["verdict"] == "pass", result
        assert "," in station.inner_text("#r-loss")  # decimal comma: "0,0 %"
        # The preview is still on after the test: its own tracks live, the copies stopped.
        assert station.evaluate("window.prejoinDebug.live()") == 2
        assert station.evaluate(
            "document.querySelector('#preview').srcObject.getVideoTracks()[0].readyState"
        ) == "live"  # fmt: skip
        screenshot(station, "prejoin")
        station.set_viewport_size(PHONE)
        assert station.evaluate("document.documentElement.scrollWidth <= innerWidth")
        screenshot(station, "prejoin-phone")
        station.set_viewport_size(DESKTOP)

        # "Vào phòng" stops every track of the screen before the room opens its own: held
        # back once here (a listener after the page's own), the browser's tracks show it.
        station.evaluate(
            "document.querySelector('#join').addEventListener('click', (e) => e.preventDefault())"
        )
        assert station.inner_text("#join") == "Vào phòng"
        station.click("#join")
        wait_for_js(station, "__media.tracks.every((t) => t.readyState === 'ended')")
        assert station.evaluate("__media.tracks.length") >= 2  # the preview's camera and microphone
        station.goto(f"{daphne_server.url}/room/{consultation.external_id}/")
        specialist = open_prejoin(browser, login, daphne_server, "specialist", consultation)
        specialist.click("#join")
        specialist.wait_for_url(f"**/room/{consultation.external_id}/")
        for page in (station, specialist):
            wait_until(lambda page=page: frames_decoded(page) > 10, within=30)
            # Only the room's own two tracks are live: the screen's were stopped.
            assert page.evaluate(LIVE_TRACKS) == 2
        used = station.evaluate("__media.tracks.find((t) => t.kind === 'audio').getSettings()")
        assert used["deviceId"] == mics[-1]
        screenshot(station, "joined")
    finally:
        for page in (station, specialist):
            if page is not None:
                page.context.close()
        peers = RoomPeer.objects.filter(consultation=consultation)
        wait_until(lambda: not peers.exists(), within=15)
