"""Waitlist: a cancellation offers the freed slot to a later consult, taken in one action."""

from collections.abc import Callable
from datetime import date

import pytest
from rest_framework.test import APIClient

from clinics.models import StationRoom, User
from consults.models import Consultation
from consults.scheduling.models import SpecialistSchedule
from tests import factories
from tests.conftest import Cast
from tests.scheduling.conftest import BookFn, at

pytestmark = pytest.mark.django_db(transaction=True)
Api = Callable[[User | None], APIClient]


def test_a_cancelled_slot_is_offered_and_taken(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn, api: Api
) -> None:
    early = book(at(day, 9)).json()["id"]
    other = factories.make_patient(cast.station)
    room2 = StationRoom.objects.create(facility=cast.station, name="P2")
    late = book(at(day, 15), patient=str(other.external_id), station_room=str(room2.external_id))
    late_id = late.json()["id"]
    nurse = api(cast.nurse)
    joined = nurse.post(f"/api/v1/consultations/{late_id}/waitlist/")
    assert joined.json()["state"] == "waiting"
    nurse.post(
        f"/api/v1/consultations/{early}/cancel/", {"reason": "Bệnh nhân khỏi"}, format="json"
    )
    taken = nurse.post(f"/api/v1/consultations/{late_id}/waitlist/take/")
    assert taken.status_code == 200, taken.json()
    assert taken.json()["state"] == "taken"
    assert Consultation.objects.get(external_id=late_id).start == at(day, 9)


def test_taking_without_an_offer_is_refused(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn, api: Api
) -> None:
    consult = book(at(day, 15)).json()["id"]
    nurse = api(cast.nurse)
    nurse.post(f"/api/v1/consultations/{consult}/waitlist/")
    response = nurse.post(f"/api/v1/consultations/{consult}/waitlist/take/")
    assert response.status_code == 409
    assert response.json()["code"] == "no_offer"


def test_an_outsider_cannot_join_the_waitlist(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn, api: Api
) -> None:
    consult = book(at(day, 15)).json()["id"]
    assert (
        api(cast.outsider_nurse).post(f"/api/v1/consultations/{consult}/waitlist/").status_code
        == 404
    )
    assert (
        api(cast.specialist).post(f"/api/v1/consultations/{consult}/waitlist/").status_code == 403
    )
