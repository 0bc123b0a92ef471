"""Every page of the site at 360×740, for every role: the top bar keeps to one row (≤ 64 px),
nothing is wider than the screen, and the phone menu (menu.js) opens and closes the links.

The pages come from frontend/urls.py: a page added there without a way to fill its URL here
fails `test_every_page_is_walked`. POST-only routes (check-in, log out...) are not pages."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, reverse

from consults.models import Consultation
from consults.room.models import RoomPeer
from consults.room.services import guest_invite_create
from frontend import urls as frontend_urls
from tests.conftest import Cast
from tests.room.test_room_browser import wait_until
from tests.security.routes import allowed_methods

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
ROLES = ("nurse", "specialist", "coordinator", "admin")
# URL name → the kwargs that fill it; a page that needs more is named here.
ARGUMENTS = {
    "patient": lambda w: {"id": w["patient"]},
    "patient-edit": lambda w: {"id": w["patient"]},
    "room-prejoin": lambda w: {"id": w["consult"]},
    "room": lambda w: {"id": w["consult"]},
    "notes": lambda w: {"id": w["consult"]},
    "report": lambda w: {"id": w["consult"]},
    "report-sign": lambda w: {"id": w["consult"]},
    "consult-change": lambda w: {"id": w["consult"]},
    "room-guest": lambda w: {"token": w["guest_token"]},
}
ANONYMOUS = {"login", "login-code", "room-guest"}  # pages for someone not logged in
LAYOUT = """() => ({
  header: document.querySelector('.topbar').getBoundingClientRect().height,
  wide: document.documentElement.scrollWidth,
  inner: innerWidth,
})"""


def pages() -> list[str]:
    return [
        p.name
        for p in frontend_urls.urlpatterns
        if isinstance(p, URLPattern) and p.name and allowed_methods(p.callback) != ["post"]
    ]


def test_every_page_is_walked() -> None:
    found = pages()
    assert {"agenda", "room", "notes"} <= set(found)
    needs_arguments = [p.name for p in frontend_urls.urlpatterns if p.pattern.converters]
    assert set(needs_arguments) <= set(ARGUMENTS), needs_arguments


@pytest.fixture
def world(cast: Cast, consultation: Consultation) -> Iterator[dict[str, str]]:
    _, token = guest_invite_create(
        consultation=consultation, kind="interpreter", minutes=60, actor=cast.specialist
    )
    yield {
        "patient": str(cast.patient.external_id),
        "consult": str(consultation.external_id),
        "guest_token": token,
    }
    # The room pages joined the call: their leaves reach the server before the flush.
    peers = RoomPeer.objects.filter(consultation=consultation)
    wait_until(lambda: not peers.exists(), within=15)


def url(name: str, world: dict[str, str]) -> str:
    make = ARGUMENTS.get(name)
    return reverse(f"frontend:{name}", kwargs=make(world) if make else None)


def walk(page: Any, server: Any, names: list[str], world: dict[str, str], who: str) -> list[str]:
    faults = []
    for name in names:
        page.goto(server.url + url(name, world))
        page.wait_for_load_state("load")
        got = page.evaluate(LAYOUT)
        if got["header"] > 64 or got["wide"] > got["inner"]:
            faults.append(f"{who} {name} ({page.url}): {got}")
    return faults


def test_every_page_keeps_a_one_row_header_and_no_sideways_scroll_on_a_phone(
    daphne_server: Any, browser: Any, login: Any, world: dict[str, str], screenshot: Any
) -> None:
    names = pages()
    faults: list[str] = []
    for role in ROLES:
        context = browser.new_context(locale="vi-VN", viewport=PHONE)
        try:
            page = context.new_page()
            login(page, daphne_server, role)
            signed_in = [n for n in names if n not in ANONYMOUS]
            faults += walk(page, daphne_server, signed_in, world, role)
            if role == "nurse":
                page.goto(daphne_server.url + "/agenda/")
                screenshot(page, "agenda-phone")
        finally:
            context.close()
    context = browser.new_context(locale="vi-VN", viewport=PHONE)
    try:
        faults += walk(context.new_page(), daphne_server, sorted(ANONYMOUS), world, "anonymous")
    finally:
        context.close()
    assert faults == []


def test_the_phone_menu_opens_the_links_and_closes_again(
    daphne_server: Any, browser: Any, login: Any, cast: Cast, screenshot: Any
) -> None:
    context = browser.new_context(locale="vi-VN", viewport=PHONE)
    try:
        page = context.new_page()
        login(page, daphne_server, "nurse")
        page.goto(daphne_server.url + "/patients/")
        menu = page.locator(".topbar .menu-toggle")
        agenda = page.locator("#site-nav a[href='/agenda/']")
        assert menu.is_visible()
        assert menu.get_attribute("aria-expanded") == "false"
        assert menu.get_attribute("aria-controls") == "site-nav"
        assert not agenda.is_visible()

        menu.click()
        assert menu.get_attribute("aria-expanded") == "true"
        assert agenda.is_visible()
        assert page.evaluate(LAYOUT)["header"] <= 64  # the list opens below the bar
        screenshot(page, "menu-open")
        page.keyboard.press("Escape")
        assert menu.get_attribute("aria-expanded") == "false"
        assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")
        assert not agenda.is_visible()

        menu.click()
        agenda.click()
        page.wait_for_url("**/agenda/")

        # A desktop keeps the links in the bar: no menu button.
        page.set_viewport_size({"width": 1366, "height": 768})
        assert not page.locator(".topbar .menu-toggle").is_visible()
        assert page.locator("#site-nav a[href='/patients/']").is_visible()
    finally:
        context.close()
