"""Scheduling in Chromium: `station` books a consult through the pages; `specialist` sees it
on the agenda. (Here rather than in tests/scheduling/ to share the one Playwright session.)"""

from typing import Any

import pytest

from consults.models import Consultation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PATIENT = "Bế Minh Khôi"  # a demo patient with no consult yet
SPECIALIST = "TS.BS Nguyễn Văn An"


def test_the_station_books_a_consult_and_the_specialist_sees_it_on_the_agenda(
    daphne_server: Any, browser: Any, login: Any, screenshot: Any, seed_demo: Any
) -> None:
    seed_demo()
    station = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    specialist = browser.new_context(locale="vi-VN")
    errors: list[str] = []
    try:
        page = station.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        login(page, daphne_server, "station", "telehealth-demo")
        page.goto(f"{daphne_server.url}/book/")
        option = page.locator("#f-patient option", has_text=PATIENT).get_attribute("value")
        page.select_option("#f-patient", value=option)
        page.select_option("#f-specialty", value="cardiology")
        page.click("#slot-search button[type=submit]")
        row = page.locator("#slot-list tbody tr", has_text=SPECIALIST).first
        row.wait_for(timeout=10_000)
        when = row.locator("td").first.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        screenshot(page, "slots")
        row.locator("a.choose-slot").click()
        page.wait_for_selector("#confirm-form")
        page.fill("#f-reason", "Khó thở khi gắng sức, tím môi")
        page.click("#confirm-form button[type=submit]")
        page.wait_for_selector("#agenda")
        assert PATIENT in page.locator("#agenda").inner_text()
        screenshot(page, "station-agenda")

        consult = Consultation.objects.get(patient__full_name=PATIENT, status="booked")
        assert consult.specialist is not None
        assert consult.specialist.username == "specialist"
        day = consult.start.astimezone().date() if consult.start else None
        other = specialist.new_page()
        login(other, daphne_server, "specialist", "telehealth-demo")
        other.goto(f"{daphne_server.url}/agenda/?day={_local_day(consult)}")
        other.wait_for_selector("#agenda")
        row = other.locator(f"#agenda tr[data-consultation='{consult.external_id}']")
        assert PATIENT in row.inner_text()
        assert when.split()[-1].split("–")[0] in row.inner_text()  # the same HH:MM
        screenshot(other, "specialist-agenda")
        assert day is not None
        assert errors == [], errors
    finally:
        station.close()
        specialist.close()


def _local_day(consult: Consultation) -> str:
    from django.utils import timezone

    assert consult.start is not None
    return timezone.localtime(consult.start).date().isoformat()
