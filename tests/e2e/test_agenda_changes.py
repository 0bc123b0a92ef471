"""The agenda's changes in Chromium (real daphne): the station cancels, reschedules and
records a no-show through their confirmation pages; a coordinator confirms a triage answer."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from clinics.models import Membership, User
from consults.models import Consultation
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _consults(count: int, start: Any) -> list[Consultation]:
    """Demo station's patients with the demo specialist, 40 minutes apart from `start`."""
    specialist = User.objects.get(username="specialist")
    nurse = User.objects.get(username="station")
    station = Membership.objects.filter(user=nurse).first()
    hospital = Membership.objects.filter(user=specialist).first()
    assert station is not None
    assert hospital is not None
    patients = list(station.facility.patients.order_by("id")[:count])
    return [
        factories.make_consultation(
            patient=p,
            specialist=specialist,
            hospital=hospital.facility,
            start=start + timedelta(minutes=40 * i),
        )
        for i, p in enumerate(patients)
    ]


def test_the_station_cancels_reschedules_and_records_a_no_show_from_the_agenda(
    daphne_server: Any, browser: Any, login: Any, seed_demo: Any
) -> None:
    seed_demo()
    later = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    past = (timezone.now() - timedelta(hours=3)).replace(second=0, microsecond=0)
    to_cancel, to_move = _consults(2, later)
    context = browser.new_context(locale="vi-VN")
    try:
        page = context.new_page()
        login(page, daphne_server, "station", "telehealth-demo")
        day = timezone.localtime(later).date().isoformat()
        page.goto(f"{daphne_server.url}/agenda/?day={day}")
        row = page.locator(f"#agenda tr[data-consultation='{to_cancel.external_id}']")
        row.locator("[data-action=cancel]").click()
        page.wait_for_selector("#change-form")
        page.fill("#f-reason", "Bệnh nhân chuyển viện")
        page.click("#change-form button[type=submit]")
        page.wait_for_selector("#agenda")
        assert Consultation.objects.get(pk=to_cancel.pk).status == "cancelled"

        row = page.locator(f"#agenda tr[data-consultation='{to_move.external_id}']")
        row.locator("[data-action=reschedule]").click()
        page.wait_for_selector("#change-form")
        choice = page.locator("input[name=slot]").last
        chosen = choice.get_attribute("value")
        choice.check()
        page.click("#change-form button[type=submit]")
        page.wait_for_selector("#agenda")
        moved = Consultation.objects.get(pk=to_move.pk)
        assert chosen is not None
        assert timezone.localtime(moved.start).isoformat() == chosen.split(" ")[0]

        (missed,) = _consults(1, past)
        page.goto(f"{daphne_server.url}/agenda/?day={timezone.localtime(past).date().isoformat()}")
        row = page.locator(f"#agenda tr[data-consultation='{missed.external_id}']")
        row.locator("[data-action=no-show]").click()
        page.wait_for_selector("#change-form")
        page.check("input[name=party][value=station]")
        page.click("#change-form button[type=submit]")
        page.wait_for_selector("#agenda")
        missed.refresh_from_db()
        assert (missed.status, missed.no_show_party) == ("no_show", "station")
    finally:
        context.close()


def test_a_coordinator_confirms_a_triage_answer_naming_the_specialist_and_time(
    daphne_server: Any, browser: Any, login: Any, seed_demo: Any
) -> None:
    seed_demo()
    hospital = Membership.objects.filter(user__username="specialist").first()
    nurse = User.objects.get(username="station")
    station = Membership.objects.filter(user=nurse).first()
    assert hospital is not None
    assert station is not None
    factories.make_user("coordinator", hospital.facility, username="dieuphoi")
    patient = station.facility.patients.order_by("id").first()
    assert patient is not None
    req = factories.make_request(
        patient=patient, hospital=hospital.facility, actor=nurse, reason="Đau ngực khi gắng sức"
    )
    context = browser.new_context(locale="vi-VN")
    try:
        page = context.new_page()
        login(page, daphne_server, "dieuphoi")
        page.goto(f"{daphne_server.url}/triage/")
        card = page.locator(f"#request-{req.consultation.external_id}")
        card.locator("form.inline button[type=submit]").first.click()
        page.wait_for_selector("#triage-confirm-form")
        said = page.locator("#triage-what").inner_text()
        assert "TS.BS Nguyễn Văn An" in said
        assert Consultation.objects.get(pk=req.consultation.pk).status == "requested"
        page.click("#triage-confirm-form button[type=submit]")
        page.wait_for_url(lambda url: url.rstrip("/").endswith("/triage"), timeout=10_000)
        assert Consultation.objects.get(pk=req.consultation.pk).status == "booked"
    finally:
        context.close()
