"""The conference services refuse with their codes and keep nothing half-written."""

from typing import Any

import pytest

from consults.conference.models import Conference, ConferenceSeat
from consults.conference.services import conference_seat_issue
from telehealth.codes import Code
from telehealth.errors import AppError
from tests.support.janus import JanusServer, free_port

pytestmark = pytest.mark.django_db


def test_a_participant_gets_a_token_bound_to_the_consults_room(
    cast: Any, consultation: Any, janus: JanusServer
) -> None:
    seat = conference_seat_issue(consultation=consultation, user=cast.specialist)
    assert seat.conference.consultation == consultation
    assert len(seat.token) >= 40
    again = conference_seat_issue(consultation=consultation, user=cast.specialist)
    assert again.token != seat.token
    assert again.conference == seat.conference
    seat.refresh_from_db()
    assert seat.revoked_at is not None  # one live seat per participant


def test_conferences_off_without_the_admin_settings(
    cast: Any, consultation: Any, settings: Any
) -> None:
    settings.JANUS_ADMIN_URL = settings.JANUS_ADMIN_SECRET = None
    with pytest.raises(AppError) as refused:
        conference_seat_issue(consultation=consultation, user=cast.specialist)
    assert refused.value.code == Code.CONFERENCES_OFF
    assert not Conference.objects.exists()


def test_someone_outside_the_consult_gets_no_token(
    cast: Any, consultation: Any, janus: JanusServer
) -> None:
    with pytest.raises(AppError) as refused:
        conference_seat_issue(consultation=consultation, user=cast.outsider_nurse)
    assert refused.value.code == Code.NOT_A_PARTICIPANT
    assert not ConferenceSeat.objects.exists()


def test_janus_not_answering_keeps_nothing(cast: Any, consultation: Any, settings: Any) -> None:
    settings.JANUS_ADMIN_URL = f"http://127.0.0.1:{free_port()}/admin"
    settings.JANUS_ADMIN_SECRET = "x"
    with pytest.raises(AppError) as refused:
        conference_seat_issue(consultation=consultation, user=cast.specialist)
    assert refused.value.code == Code.CONFERENCE_UNAVAILABLE
    assert not Conference.objects.exists()
    assert not ConferenceSeat.objects.exists()
