"""Two Chromium contexts, the station and the specialist, complete a call on the room page;
the station's pre-call test passes against the server's aiortc echo peer."""

import json
import time
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from consults.models import Consultation
from consults.room.models import CallQualityReport, RoomPeer
from tests.e2e.browser import wait_for_js
from tests.e2e.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def frames_decoded(page: Any) -> int:
    stats = page.evaluate("window.roomDebug.inboundVideo()")
    return int(stats["framesDecoded"]) if stats else 0


def post_json(url: str, body: dict[str, Any], token: str = "") -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
    return result


def wait_until(predicate: Any, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.2)


def test_station_and_specialist_both_see_remote_video(
    daphne_server: Any, browser: Any, login: Any, screenshot: Any, cast, consultation
) -> None:
    pages = {}
    contexts = []
    try:
        for name, user in (("station", cast.nurse), ("specialist", cast.specialist)):
            context = browser.new_context(locale="vi-VN")
            contexts.append(context)
            page = context.new_page()
            login(page, daphne_server, user.username)
            page.goto(f"{daphne_server.url}/room/{consultation.external_id}/")
            pages[name] = page
        for name, page in pages.items():
            wait_until(lambda page=page: frames_decoded(page) > 0)
            first = frames_decoded(page)
            wait_until(lambda page=page, first=first: frames_decoded(page) > first + 10)
            screenshot(page, name)
        consultation.refresh_from_db()
        assert consultation.status == Consultation.Status.IN_PROGRESS
        # Each page posts a quality summary about every 10 s; it is stored per participant.
        reports = CallQualityReport.objects.filter(consultation=consultation)
        wait_until(lambda: set(reports.values_list("role", flat=True)) == {"station", "specialist"})
        assert reports.filter(role="specialist", bitrate_kbps__gt=0).exists()
    finally:
        for context in contexts:
            context.close()
        # Let the server finish the leaves (presence, lifecycle) before the test database is
        # flushed: its TRUNCATE and a late leave would deadlock.
        peers = RoomPeer.objects.filter(consultation=consultation)
        wait_until(lambda: not peers.exists(), within=15)


def test_the_precall_test_passes_against_the_echo_peer(
    daphne_server: Any, browser: Any, login: Any, screenshot: Any, cast
) -> None:
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    try:
        login(page, daphne_server, cast.nurse.username)
        page.goto(f"{daphne_server.url}/room/precall/")
        wait_for_js(page, "window.prejoinDebug && window.prejoinDebug.live() === 2")
        page.click("#start")
        result = wait_for_js(page, "window.precallResult", timeout=35)
        screenshot(page, "result")
        assert result["camera"]
        assert result["microphone"]
        assert result["framesDecoded"] > 0
        assert result["verdict"] == "pass", result
        assert page.get_attribute("#verdict", "data-verdict") == "pass"
    finally:
        context.close()


def test_the_specialists_waiting_room_shows_a_check_in_live(
    daphne_server: Any, browser: Any, login: Any, screenshot: Any, cast, consultation
) -> None:
    soon = timezone.now() + timedelta(minutes=10)  # inside the check-in window
    Consultation.objects.filter(pk=consultation.pk).update(
        start=soon, end=soon + timedelta(minutes=30)
    )
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    try:
        login(page, daphne_server, cast.specialist.username)
        page.goto(f"{daphne_server.url}/room/waiting/")
        page.wait_for_selector("#waiting-empty:not([hidden])")
        # The nurse checks the patient in through the server (the API, with her token).
        token = post_json(daphne_server.url + "/api/v1/auth/token/", {
            "username": cast.nurse.username, "password": PASSWORD})["token"]  # fmt: skip
        url = f"{daphne_server.url}/api/v1/consultations/{consultation.external_id}/check-in/"
        assert post_json(url, {}, token)["status"] == Consultation.Status.CHECKED_IN
        item = page.wait_for_selector(f"[data-consultation='{consultation.external_id}']")
        assert "Nông Thị Hoa" in item.inner_text()
        screenshot(page, "waiting")
    finally:
        context.close()


@pytest.mark.redis
def test_both_pages_reconnect_after_a_server_restart_and_video_flows_again(
    start_daphne: Any, browser: Any, login: Any, screenshot: Any, cast, consultation
) -> None:
    server = start_daphne("room-restart")
    pages, contexts = {}, []
    try:
        for name, user in (("station", cast.nurse), ("specialist", cast.specialist)):
            context = browser.new_context(locale="vi-VN")
            contexts.append(context)
            page = context.new_page()
            login(page, server, user.username)
            page.goto(f"{server.url}/room/{consultation.external_id}/")
            pages[name] = page
        for page in pages.values():
            wait_until(lambda page=page: frames_decoded(page) > 5)
        server.stop()
        for page in pages.values():
            assert wait_for_js(page, "window.roomDebug.banner()")  # "reconnecting…"
        server.start()
        for name, page in pages.items():
            wait_for_js(page, "window.roomDebug.welcomes() >= 2", timeout=30)
            wait_until(lambda page=page: frames_decoded(page) > 5, within=30)
            assert page.evaluate("window.roomDebug.banner()") == ""
            screenshot(page, f"{name}-after-restart")
    finally:
        for context in contexts:
            context.close()
        peers = RoomPeer.objects.filter(consultation=consultation)
        wait_until(lambda: not peers.exists(), within=15)
