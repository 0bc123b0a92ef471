"""The consult screen in Chromium, station and specialist in two contexts: the call's state in
words, what ending or leaving does to the camera and microphone, and the phone layout."""

from collections.abc import Iterator
from typing import Any

import pytest

from consults.models import Consultation
from consults.room.models import RoomPeer
from tests.e2e.browser import wait_for_js
from tests.room.test_room_browser import frames_decoded, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 740}
REASON = "Đau ngực trái 2 ngày"

# Every track getUserMedia hands out and every RTCPeerConnection, as the page made them: the
# test sees what the browser holds, not what the page's own variables say.
RECORD_MEDIA = """
(() => {
  const media = { tracks: [], pcs: [] };
  window.__media = media;
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (c) => {
    const s = await gum(c);
    media.tracks.push(...s.getTracks());
    return s;
  };
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); media.pcs.push(this); }
  };
})();
"""
ALL_STOPPED = """
  __media.tracks.length > 0 && __media.tracks.every((t) => t.readyState === "ended")
  && __media.pcs.length > 0 && __media.pcs.every((pc) => pc.signalingState === "closed")
"""


def open_room(
    browser: Any, login: Any, server: Any, username: str, consult: Consultation, viewport: Any
) -> Any:
    context = browser.new_context(locale="vi-VN", viewport=viewport)
    context.add_init_script(RECORD_MEDIA)
    page = context.new_page()
    page.on("pageerror", lambda exc: print(f"[{username}] page error: {exc}"))
    login(page, server, username)
    page.goto(f"{server.url}/room/{consult.external_id}/")
    return page


@pytest.fixture
def call(
    daphne_server: Any, browser: Any, login: Any, cast: Any, consultation: Consultation
) -> Iterator[dict[str, Any]]:
    """The nurse on a phone, the specialist at a desktop, in a call with video both ways."""
    Consultation.objects.filter(pk=consultation.pk).update(reason=REASON)
    pages = {
        "station": open_room(browser, login, daphne_server, "nurse", consultation, PHONE),
        "specialist": open_room(browser, login, daphne_server, "specialist", consultation, DESKTOP),
    }
    try:
        for page in pages.values():
            wait_until(lambda page=page: frames_decoded(page) > 10, within=30)
        yield pages
    finally:
        for page in pages.values():
            page.context.close()
        # The leaves must reach the server before the test database is flushed.
        peers = RoomPeer.objects.filter(consultation=consultation)
        wait_until(lambda: not peers.exists(), within=15)


def in_viewport(page: Any, selector: str) -> bool:
    return bool(
        page.evaluate(
            """(s) => [...document.querySelectorAll(s)].every((el) => {
                const r = el.getBoundingClientRect();
                return r.width > 0 && r.top >= 0 && r.left >= 0
                  && r.bottom <= innerHeight && r.right <= innerWidth;
            })""",
            selector,
        )
    )


def test_ending_the_consult_stops_every_track_on_both_sides_and_shows_what_comes_next(
    call: dict[str, Any], consultation: Consultation, screenshot: Any
) -> None:
    station, specialist = call["station"], call["specialist"]
    wait_for_js(specialist, "document.querySelector('#quality').dataset.level !== 'unknown'")
    main_line = specialist.inner_text(".meta")
    assert "ICE" not in main_line
    assert "Kết nối:" in main_line
    assert specialist.locator("#tech summary").inner_text() == "Chi tiết kỹ thuật"
    assert in_viewport(specialist, ".controls button")
    screenshot(specialist, "call-desktop")
    screenshot(station, "call-phone")

    station.click("#mute")
    assert station.get_attribute("#mute", "aria-pressed") == "true"
    assert station.inner_text("#mute") == "Bật micro"
    specialist.wait_for_selector("#peer-mic:not([hidden])", timeout=5_000)
    station.click("#mute")
    assert station.inner_text("#mute") == "Tắt micro"

    specialist.once("dialog", lambda dialog: dialog.accept())
    specialist.click("#end")
    for page in (station, specialist):
        wait_for_js(page, "window.roomDebug.ended()")
        wait_for_js(page, ALL_STOPPED)
        assert not page.is_visible("#mute")
        assert not page.is_visible("#quality")
        assert not page.is_visible("#rejoin")  # completed: nothing to rejoin
        assert page.inner_text("#ended-title") == "Buổi hội chẩn đã kết thúc."
    assert specialist.is_visible("#ended a:has-text('Ký báo cáo')")
    assert station.is_visible("#ended a:has-text('Hoàn tất ghi chú')")
    screenshot(specialist, "ended-desktop")
    screenshot(station, "ended-phone")
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.COMPLETED


def test_on_a_phone_the_controls_stay_on_screen_during_the_call(
    call: dict[str, Any], daphne_server: Any, consultation: Consultation
) -> None:
    station = call["station"]
    assert in_viewport(station, ".controls button")
    assert station.evaluate("document.querySelector('.topbar').offsetHeight") <= 64
    assert station.evaluate("document.documentElement.scrollWidth <= innerWidth")
    remote, local = (station.locator(s).bounding_box() for s in ("#remote", "#local"))
    assert remote["width"] >= 320
    assert local["width"] * local["height"] < remote["width"] * remote["height"] / 8
    # The top bar keeps to one row on the station's other pages too.
    other = station.context.new_page()
    for path in ("/agenda/", "/patients/", f"/consultations/{consultation.external_id}/notes/"):
        other.goto(daphne_server.url + path)
        assert other.evaluate("document.querySelector('.topbar').offsetHeight") <= 64, path
        assert other.evaluate("document.documentElement.scrollWidth <= innerWidth"), path
    other.close()


def test_leaving_stops_the_tracks_and_a_link_out_of_a_live_call_asks_first(
    call: dict[str, Any], daphne_server: Any, consultation: Consultation
) -> None:
    station, specialist = call["station"], call["specialist"]
    station.click("#leave")
    wait_for_js(station, "window.roomDebug.ended()")
    wait_for_js(station, ALL_STOPPED)
    assert station.is_visible("#rejoin")
    assert station.inner_text("#ended-title") == "Bạn đã rời cuộc gọi."
    assert wait_for_js(specialist, "window.roomDebug.peerBanner()") == (
        "Phía bên kia đã rời cuộc gọi."
    )
    assert specialist.inner_text("#quality-word") == "—"  # nothing measured: no stale word

    # The keyboard reaches the controls, and shows where it is.
    for _ in range(40):
        specialist.keyboard.press("Tab")
        if specialist.evaluate("document.activeElement.id") == "leave":
            break
    assert specialist.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"

    asked: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    agenda = "header a[href='/agenda/']"
    specialist.once("dialog", lambda d: answer(d, False))
    specialist.click(agenda)
    assert len(asked) == 1
    assert "Rời cuộc gọi?" in asked[0]
    assert specialist.url.endswith(f"/room/{consultation.external_id}/")
    assert specialist.is_visible("#mute")

    specialist.once("dialog", lambda d: answer(d, True))
    specialist.click(agenda)
    specialist.wait_for_url("**/agenda/")
    assert len(asked) == 2
    peers = RoomPeer.objects.filter(consultation=consultation)
    wait_until(lambda: not peers.exists(), within=15)  # the specialist's bye reached the server

    station.click("#rejoin")
    wait_until(lambda: peers.filter(role="station").exists(), within=15)
    wait_for_js(station, "__media.tracks.some((t) => t.readyState === 'live')")
    assert station.is_visible("#mute")


def test_each_side_sees_the_others_note_and_chat_on_the_consult_screen_during_the_call(
    call: dict[str, Any], cast: Any, screenshot: Any
) -> None:
    station, specialist = call["station"], call["specialist"]
    for page in (station, specialist):
        page.wait_for_selector("#link-state.ok", timeout=10_000)
        assert page.inner_text("#patient-name") == "Nông Thị Hoa"
        assert page.inner_text("#reason") == REASON
        assert page.inner_text("#patient-cccd") == cast.patient.citizen_id
        assert page.inner_text("#patient-sex") == "Nữ"
        assert "Khám chữa bệnh từ xa" in page.inner_text("#patient-consent")

    station.fill("#section-history textarea[name=text]", "Khó thở khi gắng sức")
    station.click("#section-history button.save")
    wait_for_js(
        specialist,
        "document.querySelector('#section-history textarea').value === 'Khó thở khi gắng sức'",
    )
    specialist.click("#tab-chat")
    specialist.fill(".chat-form input[name=text]", "Cho đo lại huyết áp")
    specialist.click(".chat-form button")
    wait_for_js(station, "document.querySelector('#tab-chat .unread:not([hidden])')")
    station.click("#tab-chat")
    station.wait_for_selector(".chat-list li:has-text('Cho đo lại huyết áp')", timeout=5_000)

    # The phone: the panels reached with the video still on screen, nothing wider than it.
    station.locator(".chat-form button").scroll_into_view_if_needed()
    assert in_viewport(station, ".chat-form button")
    assert in_viewport(station, "#remote")
    assert in_viewport(station, ".controls button")
    assert station.evaluate("document.documentElement.scrollWidth <= innerWidth")
    for page in (station, specialist):
        before = frames_decoded(page)
        wait_until(lambda page=page, before=before: frames_decoded(page) > before, within=10)
        assert not page.evaluate("window.roomDebug.ended()")
    screenshot(station, "panels-phone")
    screenshot(specialist, "panels-desktop")


# When the sign's `hidden` flips, in the page's own clock (both contexts share the machine's).
WATCH_SIGNS = """(ids) => {
  window.__signs = [];
  for (const id of ids) {
    const el = document.getElementById(id);
    new MutationObserver(() => window.__signs.push([id, !el.hidden, Date.now()]))
      .observe(el, { attributes: true, attributeFilter: ["hidden"] });
  }
}"""
PRESS = "(id) => { const at = Date.now(); document.getElementById(id).click(); return at; }"


def test_muting_the_microphone_or_the_camera_is_shown_on_the_other_side_within_a_second(
    call: dict[str, Any],
) -> None:
    station, specialist = call["station"], call["specialist"]
    for page in (station, specialist):
        wait_for_js(page, "window.roomDebug.stateOpen()")
    specialist.evaluate(WATCH_SIGNS, ["peer-mic", "peer-camera"])
    delays: dict[str, float] = {}
    for button, sign in (("mute", "peer-mic"), ("camera", "peer-camera")):
        for shown in (True, False):  # press to turn off, then press again to turn back on
            pressed_at = station.evaluate(PRESS, button)
            flip = f"([id, on, at]) => id === '{sign}' && on === {str(shown).lower()}"
            seen_at = wait_for_js(
                specialist, f"(window.__signs.find({flip} && at >= {pressed_at}) || [])[2]"
            )
            delays[f"{sign} {'shown' if shown else 'cleared'}"] = seen_at - pressed_at
            assert specialist.is_visible(f"#{sign}") is shown
    print(f"remote sign delays (ms): {delays}")
    assert all(d < 1000 for d in delays.values()), delays
    assert station.get_attribute("#camera", "aria-pressed") == "false"
    assert station.get_attribute("#mute", "aria-pressed") == "false"
