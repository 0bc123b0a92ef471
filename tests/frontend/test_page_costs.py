"""What a page costs in SQL statements does not grow with the station's patients."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinics.models import User
from tests import factories
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def statements(user: User, url: str) -> int:
    client = Client()
    client.force_login(user)
    client.get(url)  # the session's first read is not the page's
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def patients_with_consults(cast: Cast, first: int, last: int) -> None:
    """Patients at the cast's station, each booked with the cast's specialist today (the
    agenda's day), the n-th at 00:20 × n."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    for n in range(first, last):
        patient = factories.make_patient(cast.station)
        factories.make_consultation(
            patient=patient,
            specialist=cast.specialist,
            hospital=cast.hospital,
            room=cast.room,
            start=start + timedelta(minutes=20 * n),
            minutes=15,
        )


@pytest.mark.parametrize("url", ["/book/", "/agenda/"])
def test_the_page_costs_the_same_with_5_and_with_50_patients(cast: Cast, url: str) -> None:
    patients_with_consults(cast, 0, 4)  # and the cast's own: 5
    few = statements(cast.nurse, url)
    patients_with_consults(cast, 4, 49)
    assert statements(cast.nurse, url) == few


def upcoming_consults(cast: Cast, first: int, last: int) -> None:
    """Consults the specialist's home lists: from the next hour on, 20 minutes apart."""
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=1)
    for n in range(first, last):
        factories.make_consultation(
            patient=factories.make_patient(cast.station),
            specialist=cast.specialist,
            hospital=cast.hospital,
            room=cast.room,
            start=start + timedelta(minutes=20 * n),
            minutes=15,
        )


def test_the_specialists_home_costs_the_same_with_5_and_with_50_consults(cast: Cast) -> None:
    upcoming_consults(cast, 0, 5)
    few = statements(cast.specialist, "/")
    upcoming_consults(cast, 5, 50)
    assert statements(cast.specialist, "/") == few
