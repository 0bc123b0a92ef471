"""Waitlist: a cancellation offers the freed slot to a later consult, whose station hears of
it live (/ws/notifications/) and on its agenda, and takes it in one action."""

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from clinics.models import Membership, StationRoom, User
from consults.models import Consultation
from consults.scheduling.models import SpecialistSchedule, WaitlistEntry
from consults.scheduling.waitlist import waitlist_offer_freed_slot
from telehealth.asgi import application
from tests import factories
from tests.conftest import Cast
from tests.scheduling.conftest import BookFn, at
from tests.security.matrix_world import administrator

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


# --- the offer reaches the station: live feed and agenda -------------------------------


@pytest.fixture
def offer_world(cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn, api: Api) -> dict:
    """An early consult (cancel it to free 09:00) and a later one waiting for an earlier slot."""
    early = book(at(day, 9)).json()["id"]
    other = factories.make_patient(cast.station, full_name="Lục Văn Sáng")
    room2 = StationRoom.objects.create(facility=cast.station, name="P2")
    late = book(at(day, 15), patient=str(other.external_id), station_room=str(room2.external_id))
    late_id = late.json()["id"]
    assert api(cast.nurse).post(f"/api/v1/consultations/{late_id}/waitlist/").status_code == 200
    return {"early": early, "late": late_id}


async def feed(user: User) -> WebsocketCommunicator:
    """The user's /ws/notifications/ socket, signed in with a session like a browser."""

    def cookie() -> str:
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    headers = [
        (b"origin", b"http://127.0.0.1"),
        (b"cookie", f"sessionid={await database_sync_to_async(cookie)()}".encode()),
    ]
    comm = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    connected, _ = await comm.connect()
    assert connected
    return comm


def cancel(api: Api, cast: Cast, consult_id: str) -> None:
    response = api(cast.nurse).post(
        f"/api/v1/consultations/{consult_id}/cancel/", {"reason": "Bệnh nhân khỏi"}, format="json"
    )
    assert response.status_code == 200, response.json()


async def test_the_station_hears_of_the_offer_live_and_an_outsider_does_not(
    cast: Cast, offer_world: dict, day: date, api: Api
) -> None:
    colleague = await database_sync_to_async(factories.make_user)(
        Membership.Role.STATION_STAFF, cast.station, username="nurse2"
    )
    feeds = {who: await feed(user) for who, user in [
        ("nurse", cast.nurse), ("colleague", colleague), ("outsider", cast.outsider_nurse),
        ("specialist", cast.specialist),
    ]}  # fmt: skip
    try:
        for comm in feeds.values():
            assert (await comm.receive_json_from())["type"] == "snapshot"
        await database_sync_to_async(cancel)(api, cast, offer_world["early"])
        for who in ("nurse", "colleague"):
            event = await feeds[who].receive_json_from(timeout=3)
            assert event["type"] == "waitlist_offer", who
            assert event["consultation"]["id"] == offer_world["late"]
            assert event["consultation"]["patient"] == "Lục Văn Sáng"
            assert datetime.fromisoformat(event["offer"]["start"]) == at(day, 9)
        assert await feeds["outsider"].receive_nothing(0.5)
        assert await feeds["specialist"].receive_nothing(0.1)
    finally:
        for comm in feeds.values():
            await comm.disconnect()


def test_the_agenda_shows_the_offer_and_takes_it_in_one_click(
    cast: Cast, offer_world: dict, day: date, api: Api
) -> None:
    cancel(api, cast, offer_world["early"])
    client = Client()
    client.force_login(cast.nurse)
    page = client.get("/agenda/").content.decode()
    assert 'id="waitlist-offers"' in page
    assert f'value="{offer_world["late"]}"' in page
    assert "Lục Văn Sáng" in page
    taken = client.post("/agenda/waitlist/take/", {"consultation": offer_world["late"]})
    assert taken.status_code == 302
    assert taken["Location"] == f"/agenda/?day={day.isoformat()}"
    assert Consultation.objects.get(external_id=offer_world["late"]).start == at(day, 9)
    assert WaitlistEntry.objects.get().state == "taken"
    assert 'id="waitlist-offers"' not in client.get("/agenda/").content.decode()


def test_taking_a_slot_that_was_booked_meanwhile_says_why(
    cast: Cast, offer_world: dict, day: date, api: Api, book: BookFn
) -> None:
    cancel(api, cast, offer_world["early"])
    third = factories.make_patient(cast.station)
    room3 = StationRoom.objects.create(facility=cast.station, name="P3")
    assert (
        book(
            at(day, 9), patient=str(third.external_id), station_room=str(room3.external_id)
        ).status_code
        == 201
    )
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # pages follow the language switch
    client.force_login(cast.nurse)
    response = client.post(
        "/agenda/waitlist/take/", {"consultation": offer_world["late"]}, follow=True
    )
    assert "just taken by another booking" in response.content.decode()
    assert Consultation.objects.get(external_id=offer_world["late"]).start == at(day, 15)


def test_the_offer_is_the_stations_own(cast: Cast, offer_world: dict, api: Api) -> None:
    cancel(api, cast, offer_world["early"])
    for user, status in [(cast.outsider_nurse, 404), (cast.specialist, 403)]:
        client = Client()
        client.force_login(user)
        assert 'id="waitlist-offers"' not in client.get("/agenda/").content.decode()
        response = client.post("/agenda/waitlist/take/", {"consultation": offer_world["late"]})
        assert response.status_code == status
    assert WaitlistEntry.objects.get().state == "offered"


@pytest.mark.parametrize("who", ["admin", "admin membership"])
def test_it_lets_an_administrator_take_the_offer_from_the_agenda_as_from_the_api(
    cast: Cast, offer_world: dict, day: date, api: Api, who: str
) -> None:
    cancel(api, cast, offer_world["early"])
    client = Client()
    client.force_login(cast.admin if who == "admin" else administrator())
    page = client.get(f"/agenda/?day={day.isoformat()}").content.decode()
    assert 'id="waitlist-offers"' in page
    assert f'value="{offer_world["late"]}"' in page
    taken = client.post("/agenda/waitlist/take/", {"consultation": offer_world["late"]})
    assert taken.status_code == 302
    assert Consultation.objects.get(external_id=offer_world["late"]).start == at(day, 9)
    assert WaitlistEntry.objects.get().state == "taken"


def test_a_slot_that_has_begun_is_not_offered(cast: Cast, offer_world: dict) -> None:
    offered = waitlist_offer_freed_slot(
        specialist_id=cast.specialist.pk,
        start=timezone.now() - timedelta(minutes=5),
        length=timedelta(minutes=30),
    )
    assert offered is None
    assert WaitlistEntry.objects.get().state == "waiting"
