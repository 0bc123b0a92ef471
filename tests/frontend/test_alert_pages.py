"""Which pages carry the check-in alerts (alerts.js), and what the script finds on them."""

from datetime import datetime, time

import pytest
from django.test import Client
from django.utils import timezone

from clinics.models import User
from consults.models import Consultation
from tests import factories
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

SCRIPT = "/static/frontend/alerts.js"


def page(user: User, url: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def today(cast: Cast, status: str = Consultation.Status.BOOKED) -> Consultation:
    start = datetime.combine(timezone.localdate(), time(14), tzinfo=timezone.get_current_timezone())
    return factories.make_consultation(
        patient=cast.patient,
        specialist=cast.specialist,
        hospital=cast.hospital,
        room=cast.room,
        start=start,
        status=status,
    )


@pytest.mark.parametrize("url", ["/", "/agenda/"])
def test_the_specialists_home_and_agenda_carry_the_alerts_in_vietnamese(
    cast: Cast, url: str
) -> None:
    html = page(cast.specialist, url)
    assert SCRIPT in html
    assert 'id="chime-toggle" aria-pressed="true"' in html
    assert "Cho phép thông báo trên màn hình" in html
    assert 'data-notify-title="Bệnh nhân đã có mặt, đang chờ bác sĩ"' in html


@pytest.mark.parametrize("user", ["nurse", "coordinator"])
def test_a_page_without_a_specialist_has_no_alerts(cast: Cast, user: str) -> None:
    html = page(getattr(cast, user), "/agenda/")
    assert SCRIPT not in html
    assert 'id="alerts"' not in html


def test_the_home_page_names_each_row_and_offers_the_call_of_a_waiting_patient(
    cast: Cast,
) -> None:
    consult = today(cast, Consultation.Status.CHECKED_IN)
    html = page(cast.specialist, "/")
    assert f'<tr data-consultation="{consult.external_id}">' in html
    assert f'href="/room/{consult.external_id}/prejoin/">Vào cuộc gọi</a>' in html
    assert '<span class="badge warn">Đã tiếp đón (đang chờ)</span>' in html


def test_the_agenda_marks_a_waiting_patient(cast: Cast) -> None:
    today(cast, Consultation.Status.CHECKED_IN)
    html = page(cast.specialist, "/agenda/")
    assert '<span class="badge warn">Đã tiếp đón (đang chờ)</span>' in html
