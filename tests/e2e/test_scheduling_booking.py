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


def test_the_station_picks_a_day_filters_by_specialist_asks_for_more_slots_and_books(
    daphne_server: Any, browser: Any, login: Any, seed_demo: Any
) -> None:
    """The search form says what is missing in Vietnamese (no browser validation), the
    slots start on the typed day and are the chosen specialist's, "more" adds later ones,
    and the same slot opened again says that the patient has it, with the way to it."""
    from datetime import timedelta

    from django.utils import timezone

    seed_demo()
    context = browser.new_context(locale="vi-VN")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        login(page, daphne_server, "station", "telehealth-demo")
        page.goto(f"{daphne_server.url}/book/")
        page.click("#slot-search button[type=submit]")
        page.wait_for_selector("#e-patient")
        assert page.inner_text("#e-patient") == "Hãy chọn bệnh nhân."
        assert "ít nhất 2 giờ" in page.inner_text("#notice-rule")
        assert errors == [
            "Failed to load resource: the server responded with a status of 400 (Bad Request)"
        ]
        errors.clear()  # that refusal is the page's answer; from here on nothing may fail

        chosen = timezone.localdate() + timedelta(days=3)
        option = page.locator("#f-patient option", has_text=PATIENT).get_attribute("value")
        page.select_option("#f-patient", value=option)
        page.select_option("#f-specialty", value="cardiology")
        page.fill("#f-day", f"{chosen:%d/%m/%Y}")
        page.click("#slot-search button[type=submit]")
        page.wait_for_selector("#slot-list")
        doctor = page.locator("#f-specialist option", has_text=SPECIALIST).get_attribute("value")
        page.select_option("#f-specialist", value=doctor)
        page.click("#slot-search button[type=submit]")
        page.wait_for_selector("#more-slots")
        rows = page.locator("#slot-list tr.slot")
        shown = rows.count()
        assert shown > 0
        assert all(SPECIALIST in t for t in rows.all_inner_texts())
        links = page.locator("#slot-list a.choose-slot")
        first = links.first.get_attribute("href") or ""
        first_day = first.split("start=", 1)[1][:10]
        assert first_day >= f"{chosen:%Y-%m-%d}"  # the typed day or the next one it works

        page.click("#more-slots")
        page.wait_for_function(
            f"document.querySelectorAll('#slot-list tr.slot').length > {shown}", timeout=10_000
        )
        assert all(SPECIALIST in t for t in rows.all_inner_texts())
        links.last.click()
        page.wait_for_selector("#confirm-form")
        confirm = page.url
        page.fill("#f-reason", "Khó thở khi gắng sức")
        page.click("#confirm-form button[type=submit]")
        page.wait_for_selector("#agenda")
        consult = Consultation.objects.get(patient__full_name=PATIENT, status="booked")
        assert consult.specialist is not None
        assert consult.specialist.username == "specialist"
        assert consult.start is not None
        assert timezone.localdate(consult.start) >= chosen

        page.goto(confirm)  # back to the slot, as if to book it again
        page.wait_for_selector("#existing-booking")
        assert "Bệnh nhân này đã có lịch hẹn này." in page.inner_text("#existing-booking")
        assert page.locator("#confirm-form button[type=submit]").count() == 0
        page.click("#existing-link")
        row = page.locator(f"#agenda tr[data-consultation='{consult.external_id}']")
        row.wait_for(timeout=10_000)
        assert PATIENT in row.inner_text()
        assert Consultation.objects.filter(patient__full_name=PATIENT).count() == 1
        assert errors == [], errors
    finally:
        context.close()
