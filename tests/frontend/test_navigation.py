"""The top bar links each role to its pages, in Vietnamese."""

import pytest
from django.test import Client

from clinics.models import User
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def top_bar(user: User) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(user)
    page = client.get("/login/").content.decode()
    return page[page.index('<nav class="nav"') : page.index("</nav>")]


def test_the_station_nurse_reaches_patients_booking_agenda_and_the_precall_test(
    cast: Cast,
) -> None:
    bar = top_bar(cast.nurse)
    for href in ["/patients/", "/book/", "/agenda/", "/room/precall/"]:
        assert f'href="{href}"' in bar
    assert "/triage/" not in bar
    assert "Đặt lịch hội chẩn" in bar


def test_the_specialist_reaches_the_waiting_room_and_availability(cast: Cast) -> None:
    bar = top_bar(cast.specialist)
    for href in ["/agenda/", "/room/waiting/", "/availability/"]:
        assert f'href="{href}"' in bar
    assert "/book/" not in bar
    assert bar.count('href="/agenda/"') == 1


def test_the_coordinator_reaches_triage(cast: Cast) -> None:
    assert 'href="/triage/"' in top_bar(cast.coordinator)


def test_it_links_an_administrator_to_triage_as_the_page_lets_them_in(cast: Cast) -> None:
    assert 'href="/triage/"' in top_bar(cast.admin)


def test_anonymous_visitors_get_no_links() -> None:
    page = Client().get("/login/").content.decode()
    assert 'href="/patients/"' not in page
