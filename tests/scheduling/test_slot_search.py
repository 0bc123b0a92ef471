"""GET /api/v1/slots/: the earliest slots of a specialty when the station room is free."""

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from rest_framework.test import APIClient

from clinics.models import User
from consults.scheduling.models import Holiday, SpecialistSchedule
from tests import factories
from tests.conftest import Cast, vendor
from tests.scheduling.conftest import BookFn, at

pytestmark = pytest.mark.django_db
Api = Callable[[User | None], APIClient]


def search(api: Api, user: User, **params: str) -> dict:  # type: ignore[type-arg]
    response = api(user).get("/api/v1/slots/", params)
    assert response.status_code == 200, response.json()
    return response.json()  # type: ignore[no-any-return]


def test_it_lists_the_earliest_slots_with_specialist_hospital_and_offset(
    cast: Cast, hours: SpecialistSchedule, day: date, api: Api
) -> None:
    body = search(api, cast.nurse, specialty="cardiology", **{"from": at(day, 0).isoformat()})
    first = body["results"][0]
    assert first["start"] == at(day, 8).isoformat()  # "…T08:00:00+07:00"
    assert first["start"].endswith("+07:00")
    assert {r["specialist"]["id"] for r in body["results"][:2]} == {
        str(cast.specialist.external_id),
        str(cast.other_specialist.external_id),
    }
    assert first["hospital"]["name"] in {cast.hospital.name, cast.hospital2.name}
    starts = [r["start"] for r in body["results"]]
    assert starts == sorted(starts)


def test_it_searches_one_specialist(
    cast: Cast, hours: SpecialistSchedule, day: date, api: Api
) -> None:
    body = search(
        api,
        cast.nurse,
        specialist=str(cast.specialist.external_id),
        **{"from": at(day, 0).isoformat()},
    )
    assert {r["specialist"]["id"] for r in body["results"]} == {str(cast.specialist.external_id)}
    assert body["results"][1]["start"] == at(day, 8, 30).isoformat()


def test_it_leaves_out_slots_when_the_station_room_is_taken(
    cast: Cast, hours: SpecialistSchedule, day: date, api: Api, book: BookFn
) -> None:
    assert book(at(day, 8), specialist=str(cast.other_specialist.external_id)).status_code == 201
    body = search(api, cast.nurse, specialty="cardiology", **{"from": at(day, 0).isoformat()})
    assert at(day, 8).isoformat() not in {r["start"] for r in body["results"]}
    assert body["results"][0]["start"] == at(day, 8, 30).isoformat()


def test_it_leaves_out_holidays(cast: Cast, hours: SpecialistSchedule, day: date, api: Api) -> None:
    Holiday.objects.create(date=day, name_vi="Ngày lễ thử", name_en="Test holiday")
    body = search(api, cast.nurse, specialty="cardiology", **{"from": at(day, 0).isoformat()})
    assert all(not r["start"].startswith(day.isoformat()) for r in body["results"])


def test_it_honours_limit_and_to(
    cast: Cast, hours: SpecialistSchedule, day: date, api: Api
) -> None:
    params = {"from": at(day, 0).isoformat(), "to": at(day, 9).isoformat(), "limit": "3"}
    body = search(api, cast.nurse, specialty="cardiology", **params)
    assert body["count"] == 3
    assert all(r["start"] < at(day, 9).isoformat() for r in body["results"])


def test_it_finds_nothing_for_a_specialty_nobody_practises(
    cast: Cast, hours: SpecialistSchedule, api: Api
) -> None:
    factories.make_specialty("dermatology")
    assert search(api, cast.nurse, specialty="dermatology")["results"] == []


def test_it_refuses_a_search_without_specialty_or_specialist(cast: Cast, api: Api) -> None:
    response = api(cast.nurse).get("/api/v1/slots/")
    assert response.status_code == 400


def test_it_refuses_a_naive_or_malformed_time(cast: Cast, api: Api) -> None:
    response = api(cast.nurse).get(
        "/api/v1/slots/", {"specialty": "cardiology", "from": "tomorrow"}
    )
    assert response.status_code == 400
    assert "from" in response.json()["fields"]


def test_it_refuses_to_before_from(cast: Cast, day: date, api: Api) -> None:
    params = {
        "specialty": "cardiology",
        "from": at(day, 9).isoformat(),
        "to": at(day, 8).isoformat(),
    }
    assert api(cast.nurse).get("/api/v1/slots/", params).status_code == 400


def test_an_outsider_nurse_cannot_search_for_another_station(cast: Cast, api: Api) -> None:
    params = {"specialty": "cardiology", "station": str(cast.station.external_id)}
    response = api(cast.outsider_nurse).get("/api/v1/slots/", params)
    assert response.status_code == 404


def test_anonymous_cannot_search(api: Api) -> None:
    assert api(None).get("/api/v1/slots/", {"specialty": "cardiology"}).status_code == 401


def test_an_unknown_specialist_is_not_found(cast: Cast, api: Api) -> None:
    params = {"specialist": "00000000-0000-4000-8000-000000000000"}
    assert api(cast.nurse).get("/api/v1/slots/", params).status_code == 404


def test_the_first_slot_respects_the_minimum_notice(
    cast: Cast, hours: SpecialistSchedule, api: Api
) -> None:
    from django.utils import timezone

    body = search(api, cast.nurse, specialist=str(cast.specialist.external_id))
    from datetime import datetime

    first = datetime.fromisoformat(body["results"][0]["start"])
    assert first >= timezone.now() + timedelta(minutes=hours.min_notice_minutes)


def test_it_finds_slots_beyond_a_fully_blocked_first_week(
    cast: Cast, hours: SpecialistSchedule, day: date, api: Api
) -> None:
    from consults.scheduling.models import TimeOff

    TimeOff.objects.create(
        specialist=cast.specialist, start=at(day, 0), end=at(day + timedelta(days=10), 0)
    )
    params = {"specialist": str(cast.specialist.external_id), "from": at(day, 0).isoformat()}
    body = search(api, cast.nurse, **params)
    assert body["results"][0]["start"] == at(day + timedelta(days=10), 8).isoformat()
    assert body["count"] == 20


def test_it_steps_over_a_morning_booked_back_to_back(
    cast: Cast, hours: SpecialistSchedule, day: date, api: Api, book: BookFn
) -> None:
    for hour, minute in ((8, 0), (8, 30), (9, 0)):
        assert book(at(day, hour, minute)).status_code == 201
    params = {"specialist": str(cast.specialist.external_id), "from": at(day, 0).isoformat()}
    body = search(api, cast.nurse, **params)
    assert [r["start"] for r in body["results"][:2]] == [
        at(day, 9, 30).isoformat(),
        at(day, 10).isoformat(),
    ]


@pytest.mark.parametrize("range_agg", [True, False], ids=["range_agg", "window_functions"])
def test_the_database_merges_touching_bookings_into_runs_per_specialist(
    cast: Cast, day: date, range_agg: bool
) -> None:
    if range_agg and vendor() != "postgresql":
        pytest.skip("range_agg is PostgreSQL's")
    from consults.models import Consultation
    from consults.scheduling import selectors
    from consults.scheduling.engine import Interval

    def consult(specialist: User, hour: int, minute: int = 0, **kw: object) -> None:
        factories.make_consultation(
            patient=factories.make_patient(cast.station),
            specialist=specialist,
            hospital=cast.hospital,
            start=at(day, hour, minute),
            **kw,
        )

    consult(cast.specialist, 8)
    consult(cast.specialist, 8, 30)  # touches the first: one run 08:00–09:00
    consult(cast.specialist, 9, 30, buffer_end=at(day, 10, 15))  # its buffer reaches on
    consult(cast.specialist, 10, 15)  # touches that buffer: one run 09:30–10:45
    consult(cast.specialist, 11, status=Consultation.Status.CANCELLED)  # frees its time
    consult(cast.other_specialist, 9)
    runs = selectors.booked_runs(
        [cast.specialist.pk, cast.other_specialist.pk], at(day, 0), at(day, 23), range_agg=range_agg
    )
    assert sorted(runs[cast.specialist.pk]) == [
        Interval(at(day, 8), at(day, 9)),
        Interval(at(day, 9, 30), at(day, 10, 45)),
    ]
    assert runs[cast.other_specialist.pk] == [Interval(at(day, 9), at(day, 9, 30))]
    # Only what overlaps the window asked for.
    later = selectors.booked_runs(
        [cast.specialist.pk], at(day, 10, 45), at(day, 12), range_agg=range_agg
    )
    assert later == {}
