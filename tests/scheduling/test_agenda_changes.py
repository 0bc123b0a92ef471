"""The agenda's changes to a consult (cancel, reschedule, no-show): a confirmation page, then
the services' write; refusals show the page's message for their code and change nothing."""

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from consults.models import Consultation
from consults.scheduling.models import SpecialistSchedule
from tests import factories
from tests.conftest import Cast
from tests.scheduling.conftest import at
from tests.scheduling.test_pages import form_key, logged_in

pytestmark = pytest.mark.django_db


def booked(cast: Cast, **kw: Any) -> Consultation:
    return factories.make_consultation(
        patient=cast.patient,
        specialist=cast.specialist,
        hospital=cast.hospital,
        room=cast.room,
        **kw,
    )


def change_url(consult: Consultation) -> str:
    return f"/agenda/{consult.external_id}/change/"


def test_the_agenda_offers_the_changes_and_cancel_goes_through_a_confirmation(cast: Cast) -> None:
    consult = booked(cast)
    client = logged_in(cast.nurse)
    day = timezone.localtime(consult.start).date().isoformat()
    agenda = client.get("/agenda/", {"day": day}).content.decode()
    assert f"{change_url(consult)}?action=cancel" in agenda
    assert f"{change_url(consult)}?action=reschedule" in agenda
    assert "action=no_show" not in agenda  # not before its time
    page = client.get(change_url(consult), {"action": "cancel"})
    assert page.status_code == 200
    assert "Hủy buổi hội chẩn?" in page.content.decode()
    assert Consultation.objects.get(pk=consult.pk).status == "booked"  # the page changes nothing
    key = form_key(page.content.decode())
    form = {"action": "cancel", "reason": "Bệnh nhân chuyển viện", "idempotency_key": key}
    response = client.post(change_url(consult), form)
    assert response.status_code == 302
    consult.refresh_from_db()
    assert (consult.status, consult.cancel_reason, consult.cancelled_by) == (
        "cancelled",
        "Bệnh nhân chuyển viện",
        cast.nurse,
    )


def test_bad_changes_say_why_and_change_nothing(cast: Cast) -> None:
    client = logged_in(cast.nurse)
    unknown = "/agenda/00000000-0000-4000-8000-000000000000/change/"
    assert client.get(unknown, {"action": "cancel"}).status_code == 404
    theirs = factories.make_consultation(
        patient=cast.other_patient,
        specialist=cast.specialist,
        hospital=cast.hospital,
    )
    assert client.post(change_url(theirs), {"action": "cancel", "reason": "x"}).status_code == 404
    assert Consultation.objects.get(pk=theirs.pk).status == "booked"
    cancelled = booked(cast, status=Consultation.Status.CANCELLED)
    response = client.post(change_url(cancelled), {"action": "cancel", "reason": "Lần hai"})
    assert response.status_code == 409
    page = response.content.decode()
    assert 'data-code="invalid_transition"' in page
    assert "Không thể thay đổi buổi hội chẩn này theo cách đó" in page
    assert Consultation.objects.get(pk=cancelled.pk).cancel_reason == ""
    soon = booked(cast)
    response = client.post(change_url(soon), {"action": "no_show", "party": "station"})
    assert response.status_code == 409
    assert 'data-code="too_early"' in response.content.decode()
    assert Consultation.objects.get(pk=soon.pk).status == "booked"
    no_reason = client.post(change_url(soon), {"action": "cancel", "reason": ""})
    assert no_reason.status_code == 400
    assert Consultation.objects.get(pk=soon.pk).status == "booked"
    assert client.get(change_url(soon), {"action": "delete"}).status_code == 400


def test_reschedule_moves_to_a_found_slot_and_keeps_the_history(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    consult = booked(cast, start=at(day, 9))
    client = logged_in(cast.nurse)
    page = client.get(change_url(consult), {"action": "reschedule"}).content.decode()
    slots = re.findall(r'name="slot" value="([^"]+)"', page)
    assert slots
    new_start, _space, new_end = slots[-1].partition(" ")
    assert new_start != timezone.localtime(consult.start).isoformat()
    form = {"action": "reschedule", "slot": slots[-1], "idempotency_key": form_key(page)}
    assert client.post(change_url(consult), form).status_code == 302
    moved = Consultation.objects.get(pk=consult.pk)
    assert timezone.localtime(moved.start).isoformat() == new_start
    assert timezone.localtime(moved.end).isoformat() == new_end
    assert moved.sequence == consult.sequence + 1
    assert moved.events.filter(reason__startswith="rescheduled from").exists()


def test_a_no_show_once_due_names_the_party(cast: Cast) -> None:
    start = (timezone.now() - timedelta(minutes=40)).replace(second=0, microsecond=0)
    consult = booked(cast, start=start)
    client = logged_in(cast.specialist)
    day = timezone.localtime(start).date().isoformat()
    assert "action=no_show" in client.get("/agenda/", {"day": day}).content.decode()
    form = {"action": "no_show", "party": "station", "reason": "Không liên lạc được"}
    assert client.post(change_url(consult), form).status_code == 302
    consult.refresh_from_db()
    assert (consult.status, consult.no_show_party) == ("no_show", "station")
