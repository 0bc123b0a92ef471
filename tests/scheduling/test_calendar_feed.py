"""The iCalendar feed: a secret URL, parsed by the icalendar library, cancellations shown."""

from collections.abc import Callable

import icalendar
import pytest
from rest_framework.test import APIClient

from clinics.models import User
from consults.models import Consultation
from tests.conftest import Cast

pytestmark = pytest.mark.django_db
Api = Callable[[User | None], APIClient]


def feed_path(api: Api, user: User) -> str:
    url = api(user).get("/api/v1/calendar/").json()["url"]
    assert url.startswith("http://testserver/api/v1/calendar/")
    return str(url.removeprefix("http://testserver"))


def events(api: Api, path: str) -> list[icalendar.Event]:
    response = api(None).get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))


def test_the_feed_parses_and_lists_the_users_consults(
    cast: Cast, consultation: Consultation, api: Api
) -> None:
    [event] = events(api, feed_path(api, cast.specialist))
    assert str(event["uid"]) == f"{consultation.external_id}@telehealth"
    assert event.decoded("dtstart") == consultation.start
    assert str(event["status"]) == "CONFIRMED"
    assert cast.patient.full_name not in str(event["summary"])  # no patient data leaves


def test_a_cancellation_shows_as_cancelled_with_a_higher_sequence(
    cast: Cast, consultation: Consultation, api: Api
) -> None:
    path = feed_path(api, cast.nurse)
    [before] = events(api, path)
    response = api(cast.nurse).post(
        f"/api/v1/consultations/{consultation.external_id}/cancel/",
        {"reason": "Mưa lũ"},
        format="json",
    )
    assert response.status_code == 200
    [after] = events(api, path)
    assert str(after["status"]) == "CANCELLED"
    assert int(after["sequence"]) > int(before["sequence"])


def test_rotating_the_token_revokes_the_old_url(
    cast: Cast, consultation: Consultation, api: Api
) -> None:
    old = feed_path(api, cast.specialist)
    new = api(cast.specialist).post("/api/v1/calendar/").json()["url"]
    assert api(None).get(old).status_code == 404
    assert len(events(api, new.removeprefix("http://testserver"))) == 1


def test_an_unknown_token_is_not_found(api: Api) -> None:
    assert api(None).get("/api/v1/calendar/not-a-token.ics").status_code == 404


def test_an_outsiders_feed_does_not_show_the_consult(
    cast: Cast, consultation: Consultation, api: Api
) -> None:
    assert events(api, feed_path(api, cast.outsider_nurse)) == []


def test_anonymous_has_no_feed_url(api: Api) -> None:
    assert api(None).get("/api/v1/calendar/").status_code == 401
