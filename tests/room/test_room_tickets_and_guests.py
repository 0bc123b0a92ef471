"""Room tickets (API clients, guests), guest links, check-in and end over REST."""

import base64
import hashlib
import hmac
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from consults.models import Consultation
from consults.room import presence
from consults.room.models import GuestInvite, RoomTicket
from consults.room.turn import ice_servers_for, turn_credentials
from telehealth.errors import AppError
from tests.room.conftest import Opener

S = Consultation.Status


def ticket_url(consult: Consultation) -> str:
    return f"/api/v1/consultations/{consult.external_id}/room-ticket/"


def guests_url(consult: Consultation) -> str:
    return f"/api/v1/consultations/{consult.external_id}/guests/"


@pytest.mark.django_db
def test_it_issues_a_room_ticket_to_the_specialist(api, cast, consultation) -> None:
    response = api(cast.specialist).post(ticket_url(consultation))
    assert response.status_code == 201
    body = response.json()
    assert len(body["ticket"]) >= 40
    assert body["ws_path"] == f"/ws/consultations/{consultation.external_id}/"
    ticket = RoomTicket.objects.get()
    assert ticket.token_hash != body["ticket"]
    assert 55 <= (ticket.expires_at - timezone.now()).total_seconds() <= 60


@pytest.mark.django_db
def test_it_hides_the_consult_from_an_outsider_asking_for_a_ticket(api, cast, consultation):
    response = api(cast.outsider_nurse).post(ticket_url(consultation))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_it_refuses_a_ticket_to_a_coordinator_who_is_not_in_the_call(api, cast, consultation):
    response = api(cast.coordinator).post(ticket_url(consultation))
    assert response.status_code == 403
    assert response.json()["code"] == "not_a_participant"


@pytest.mark.django_db
def test_it_refuses_a_ticket_to_an_anonymous_client(api, consultation) -> None:
    assert api(None).post(ticket_url(consultation)).status_code == 401


@pytest.mark.django_db(transaction=True)
async def test_a_ticket_opens_the_room_once_only(open_room: Opener, api, cast, consultation):
    body = await database_sync_to_async(
        lambda: api(cast.specialist).post(ticket_url(consultation)).json()
    )()
    room = await open_room(None, consultation, hello={"ticket": body["ticket"]})
    assert (await room.expect("welcome"))["role"] == "specialist"
    again = await open_room(None, consultation, hello={"ticket": body["ticket"]})
    assert await again.closed() == 4401


@pytest.mark.django_db(transaction=True)
async def test_an_expired_ticket_is_refused(open_room: Opener, api, cast, consultation):
    body = await database_sync_to_async(
        lambda: api(cast.specialist).post(ticket_url(consultation)).json()
    )()
    await database_sync_to_async(
        lambda: RoomTicket.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    )()
    room = await open_room(None, consultation, hello={"ticket": body["ticket"]})
    assert await room.closed() == 4401


@pytest.mark.django_db(transaction=True)
async def test_a_ticket_for_another_consult_is_refused(open_room: Opener, api, cast, consultation):
    from tests import factories

    other = await database_sync_to_async(factories.make_consultation)(
        patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital
    )
    body = await database_sync_to_async(
        lambda: api(cast.specialist).post(ticket_url(other)).json()
    )()
    room = await open_room(None, consultation, hello={"ticket": body["ticket"]})
    assert await room.closed() == 4401


@pytest.mark.django_db
def test_the_specialist_invites_an_interpreter_with_a_signed_link(api, cast, consultation):
    response = api(cast.specialist).post(
        guests_url(consultation), {"kind": "interpreter"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "interpreter"
    assert "/room/guest/" in body["link"]
    assert GuestInvite.objects.get().invited_by == cast.specialist


@pytest.mark.django_db
def test_a_station_nurse_cannot_invite_guests(api, cast, consultation) -> None:
    response = api(cast.nurse).post(
        guests_url(consultation), {"kind": "interpreter"}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_an_outsider_cannot_see_the_guest_list(api, cast, consultation) -> None:
    response = api(cast.outsider_nurse).post(
        guests_url(consultation), {"kind": "interpreter"}, format="json"
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_an_invite_with_a_bad_kind_is_refused(api, cast, consultation) -> None:
    response = api(cast.specialist).post(
        guests_url(consultation), {"kind": "pirate"}, format="json"
    )
    assert response.status_code == 400
    assert "kind" in response.json()["fields"]


def _guest_link(api, cast, consultation) -> tuple[str, str]:
    body = (
        api(cast.coordinator)
        .post(guests_url(consultation), {"kind": "specialist"}, format="json")
        .json()
    )
    return body["id"], body["link"].rstrip("/").rsplit("/", 1)[1]


@pytest.mark.django_db(transaction=True)
async def test_a_guest_names_themself_and_joins_then_is_kicked_on_revoke(
    open_room: Opener, api, cast, consultation
) -> None:
    guest_id, token = await database_sync_to_async(_guest_link)(api, cast, consultation)
    body = await database_sync_to_async(
        lambda: (
            api(None)
            .post(
                "/api/v1/room/guest-ticket/",
                {"token": token, "display_name": "BS. Trần Minh"},
                format="json",
            )
            .json()
        )
    )()
    guest = await open_room(None, consultation, hello={"ticket": body["ticket"]})
    welcome = await guest.expect("welcome")
    assert (welcome["role"], welcome["name"]) == ("guest", "BS. Trần Minh")
    response = await database_sync_to_async(
        lambda: api(cast.coordinator).delete(f"{guests_url(consultation)}{guest_id}/")
    )()
    assert response.status_code == 200
    assert await guest.closed() == 4403


@pytest.mark.django_db
def test_a_revoked_link_gives_no_ticket(api, cast, consultation) -> None:
    guest_id, token = _guest_link(api, cast, consultation)
    api(cast.coordinator).delete(f"{guests_url(consultation)}{guest_id}/")
    response = api(None).post(
        "/api/v1/room/guest-ticket/", {"token": token, "display_name": "Guest"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "invite_invalid"


@pytest.mark.django_db
def test_a_forged_link_gives_no_ticket(api) -> None:
    response = api(None).post(
        "/api/v1/room/guest-ticket/",
        {"token": "eyJnIjoi:forged", "display_name": "Guest"},
        format="json",
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_only_the_specialist_ends_over_rest_and_only_from_a_call(api, cast, consultation):
    url = f"/api/v1/consultations/{consultation.external_id}/room/end/"
    assert api(cast.nurse).post(url).status_code == 403
    assert api(cast.specialist).post(url).status_code == 409  # booked: nothing to end
    Consultation.objects.filter(pk=consultation.pk).update(status=S.INTERRUPTED)
    assert api(cast.specialist).post(url).json()["status"] == S.COMPLETED


def test_turn_credentials_follow_the_coturn_rest_format() -> None:
    creds = turn_credentials("p-abc", secret="s3cret", ttl=600, now=1_700_000_000)
    assert creds["username"] == "1700000600:p-abc"
    expected = hmac.new(b"s3cret", b"1700000600:p-abc", hashlib.sha1).digest()
    assert creds["credential"] == base64.b64encode(expected).decode()


def test_only_turn_entries_get_credentials(settings) -> None:
    settings.TURN_SECRET = "s3cret"
    settings.ICE_SERVERS = [
        {"urls": "stun:stun.example.vn:3478"},
        {"urls": ["turn:turn.example.vn:3478?transport=udp"]},
    ]
    stun, turn = ice_servers_for("p-1")
    assert "username" not in stun
    assert turn["username"].endswith(":p-1")
    assert turn["credential"]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["nurse", "coordinator", "admin", "other_specialist", None])
def test_room_end_refuses_anyone_but_the_consults_specialist(cast, consultation, who) -> None:
    """Whichever path calls it (REST, the socket's `end`): the service checks its actor."""
    Consultation.objects.filter(pk=consultation.pk).update(status=S.IN_PROGRESS)
    consultation.refresh_from_db()
    actor = getattr(cast, who) if who else None  # None: a guest has no account
    with pytest.raises(AppError) as refused:
        presence.room_end(consultation=consultation, actor=actor)
    assert (refused.value.code, refused.value.status) == ("not_allowed", 403)
    consultation.refresh_from_db()
    assert consultation.status == S.IN_PROGRESS
    presence.room_end(consultation=consultation, actor=cast.specialist)
    assert Consultation.objects.get(pk=consultation.pk).status == S.COMPLETED


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.COMPLETED, S.CANCELLED, S.REQUESTED])
def test_a_guest_link_gives_no_ticket_for_a_consult_that_cannot_be_joined(
    api, cast, consultation, status
) -> None:
    _guest_id, token = _guest_link(api, cast, consultation)
    Consultation.objects.filter(pk=consultation.pk).update(status=status)
    as_guest = api(None).post(
        "/api/v1/room/guest-ticket/", {"token": token, "display_name": "Guest"}, format="json"
    )
    as_specialist = api(cast.specialist).post(ticket_url(consultation))
    assert as_guest.status_code == as_specialist.status_code == 409
    assert as_guest.json()["code"] == as_specialist.json()["code"] == "not_joinable"
    assert not RoomTicket.objects.exists()
