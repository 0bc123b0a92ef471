"""The patient desk in Chromium on a real daphne: registering someone already registered
(the duplicate step), editing a patient (the change in the record's history and the audit
log), and booking a consult from the patient's page."""

from typing import Any

import pytest

from clinics.models import AuditEntry, Patient, PatientRevision

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PATIENT = "Hoàng Văn Páo"  # a demo patient (adult, ethnicity Mông) of the `station` account


def test_the_nurse_meets_the_duplicate_edits_the_patient_and_books_from_the_record(
    daphne_server: Any, browser: Any, login: Any, screenshot: Any, seed_demo: Any
) -> None:
    seed_demo()
    existing = Patient.objects.get(full_name=PATIENT)
    context = browser.new_context(locale="vi-VN")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        # The duplicate step is the page's answer 409 (as the API's): Chromium logs that
        # status as a console error; it is expected once, and nothing else may be logged.
        expected = "Failed to load resource: the server responded with a status of 409 (Conflict)"
        login(page, daphne_server, "station", "telehealth-demo")
        page.goto(f"{daphne_server.url}/patients/")

        # The same person typed again, without tones and without a CCCD.
        page.fill("#f-full_name", "hoang van pao")
        page.fill("#f-date_of_birth", existing.date_of_birth.strftime("%d/%m/%Y"))
        page.select_option("#f-sex", value=existing.sex)
        page.click("#register button[type=submit]")
        duplicates = page.locator("#duplicates")
        duplicates.wait_for(timeout=10_000)
        assert PATIENT in duplicates.inner_text()
        assert page.input_value("#f-full_name") == "hoang van pao"
        assert page.locator("#confirm-new").inner_text() == "Vẫn tạo mới"
        screenshot(page, "duplicate-step")
        assert Patient.objects.filter(name_folded="hoang van pao").count() == 1

        # It is the same patient: open the existing record instead.
        duplicates.locator("a", has_text=PATIENT).click()
        page.wait_for_selector("#edit-patient")
        page.click("#edit-patient")
        page.wait_for_selector("#edit form")
        page.fill("#f-ethnicity", "Nùng")
        page.click("#edit button[type=submit]")
        page.wait_for_selector("#revisions table")
        assert page.locator("#patient-ethnicity").inner_text() == "Nùng"
        history = page.locator("#revisions").inner_text()
        assert "Nùng" in history
        assert "Dân tộc" in history
        screenshot(page, "edited")
        revision = PatientRevision.objects.get(patient=existing)
        assert revision.changes["ethnicity"]["new"] == "Nùng"
        assert revision.changed_by.username == "station"
        assert AuditEntry.objects.filter(
            patient_id=existing.external_id, action=AuditEntry.Action.UPDATE
        ).exists()

        # Booking from the record: the booking form opens with this patient chosen.
        page.click("#book-patient")
        page.wait_for_selector("#f-patient")
        assert page.input_value("#f-patient") == str(existing.external_id)
        screenshot(page, "book-from-patient")
        assert errors == [expected], errors
    finally:
        context.close()
