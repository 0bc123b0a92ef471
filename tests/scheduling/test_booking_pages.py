"""The station's booking page: a day, a specialist, a hospital, more slots, the notice rule,
its own Vietnamese messages, and a booking made twice said as such."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from consults.models import Consultation
from consults.scheduling.models import SpecialistSchedule
from frontend.views_booking import SLOTS_SHOWN
from tests.conftest import Cast
from tests.scheduling.conftest import at
from tests.scheduling.test_pages import confirm_form, confirm_url, form_key, logged_in

pytestmark = pytest.mark.django_db


def search(cast: Cast, **more: str) -> dict[str, str]:
    return {"patient": str(cast.patient.external_id), "specialty": "cardiology", **more}


def slot_days(page: str) -> list[tuple[str, str, str]]:
    """The (year, month, day) of each slot offered, in the order shown."""
    return re.findall(r"choose-slot\" href=\"[^\"]*start=(\d{4})-(\d\d)-(\d\d)", page)


def first_slot_day(page: str) -> date:
    year, month, day = slot_days(page)[0]
    return date(int(year), int(month), int(day))


def test_it_searches_from_the_chosen_day(cast: Cast, hours: SpecialistSchedule, day: date) -> None:
    later = day + timedelta(days=3)
    response = logged_in(cast.nurse).get("/book/", search(cast, day=f"{later:%d/%m/%Y}"))
    assert response.status_code == 200
    page = response.content.decode()
    assert first_slot_day(page) == later
    assert f'aria-current="date" data-day="{later:%d/%m/%Y}"' in page  # the week strip


def test_it_refuses_a_past_day_with_its_message(cast: Cast, hours: SpecialistSchedule) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    response = logged_in(cast.nurse).get("/book/", search(cast, day=f"{yesterday:%d/%m/%Y}"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ngày này đã qua: hãy chọn hôm nay hoặc một ngày sau." in page
    assert 'id="slot-list"' not in page


@pytest.mark.parametrize("typed", ["2026-12-05", "31/02/2027", "tomorrow"])
def test_it_refuses_a_day_it_cannot_read_and_keeps_it(
    cast: Cast, hours: SpecialistSchedule, typed: str
) -> None:
    response = logged_in(cast.nurse).get("/book/", search(cast, day=typed))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nhập ngày theo dạng dd/mm/yyyy, ví dụ" in page
    assert f'value="{typed}"' in page
    assert 'id="slot-list"' not in page


def test_it_filters_by_specialist(cast: Cast, hours: SpecialistSchedule) -> None:
    chosen = str(cast.other_specialist.external_id)
    page = logged_in(cast.nurse).get("/book/", search(cast, specialist=chosen)).content.decode()
    offered = set(re.findall(r"specialist=([0-9a-f-]{36})", page))
    assert offered == {chosen}


def test_it_refuses_an_unknown_specialist(cast: Cast, hours: SpecialistSchedule) -> None:
    for unknown in ["3f1d0c9e-0000-4000-8000-000000000000", "not-an-id"]:
        response = logged_in(cast.nurse).get("/book/", search(cast, specialist=unknown))
        assert response.status_code == 400
        page = response.content.decode()
        assert "Không có bác sĩ chuyên khoa này. Hãy chọn trong danh sách." in page
        assert 'id="slot-list"' not in page


def test_it_filters_by_hospital_and_refuses_an_unknown_one(
    cast: Cast, hours: SpecialistSchedule
) -> None:
    client = logged_in(cast.nurse)
    page = client.get("/book/", search(cast, hospital=str(cast.hospital2.external_id)))
    offered = set(re.findall(r"specialist=([0-9a-f-]{36})", page.content.decode()))
    assert offered == {str(cast.other_specialist.external_id)}
    refused = client.get("/book/", search(cast, hospital="nowhere"))
    assert refused.status_code == 400
    assert "Không có bệnh viện này. Hãy chọn trong danh sách." in refused.content.decode()


def test_more_slots_shows_the_next_ones_after_the_first(
    cast: Cast, hours: SpecialistSchedule
) -> None:
    client = logged_in(cast.nurse)
    first = client.get("/book/", search(cast)).content.decode()
    assert first.count('class="button choose-slot"') == SLOTS_SHOWN
    more = re.search(r'id="more-slots" href="([^"]+)"', first)
    assert more, "no more-slots link"
    second = client.get("/book/" + more.group(1).replace("&amp;", "&")).content.decode()
    assert second.count('class="button choose-slot"') == 2 * SLOTS_SHOWN
    links = re.findall(r'class="button choose-slot" href="([^"]+)"', second)
    assert links[:SLOTS_SHOWN] == re.findall(r'class="button choose-slot" href="([^"]+)"', first)


def test_an_empty_search_says_what_is_missing_in_vietnamese(cast: Cast) -> None:
    response = logged_in(cast.nurse).get("/book/", {"patient": "", "specialty": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Hãy chọn bệnh nhân." in page
    assert "Hãy chọn chuyên khoa." in page


def test_the_page_states_the_notice_rule_and_leaves_validation_to_the_server(
    cast: Cast, hours: SpecialistSchedule
) -> None:
    page = logged_in(cast.nurse).get("/book/", search(cast)).content.decode()
    assert "phải đặt trước ít nhất 2 giờ" in page
    forms = re.findall(r"<form[^>]*(?:slot-search|requests/file)[^>]*>", page)
    assert len(forms) == 2
    assert all("novalidate" in f for f in forms)
    assert " required" not in page


def test_booking_the_same_slot_again_says_the_patient_has_it_with_a_link(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    client = logged_in(cast.nurse)
    form = confirm_form(cast, day, 9, specialty="cardiology", urgency="routine", mode="video")
    first = form_key(client.get(confirm_url(cast, day)).content.decode())
    assert client.post("/book/confirm/", form | {"idempotency_key": first}).status_code == 302
    consult = Consultation.objects.get()
    back = client.get(confirm_url(cast, day)).content.decode()  # going back to the page
    assert "Bệnh nhân này đã có lịch hẹn này." in back
    assert f'href="/agenda/?day={day.isoformat()}" id="existing-link"' in back
    again = client.post("/book/confirm/", form | {"idempotency_key": form_key(back)})
    assert again.status_code == 409
    assert "Bệnh nhân này đã có lịch hẹn này." in again.content.decode()
    assert list(Consultation.objects.all()) == [consult]
    assert consult.start == at(day, 9)
