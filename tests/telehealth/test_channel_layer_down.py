"""A write that has committed is never answered with a 500 because the live layer (Redis) is
away: the nurse's check-in, a note edit and a cancellation stand, and the live events that
could not go out are logged. (Sockets catch up by `resync` and the notes' revision numbers.)"""

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from consults.models import Consultation
from tests.notes.conftest import edit, section_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def layer_down(settings: Any) -> None:
    # Nothing listens on the discard port: every send to this layer fails at once.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "consults.realtime.layer.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:9/0"]},
        }
    }


def consult_url(consult: Consultation, action: str) -> str:
    return f"/api/v1/consultations/{consult.external_id}/{action}/"


def test_a_check_in_stands_when_the_live_layer_is_down(
    cast: Any, api: Any, consultation: Consultation, layer_down: None, caplog: Any
) -> None:
    soon = timezone.now() + timedelta(minutes=10)  # inside the check-in window
    Consultation.objects.filter(pk=consultation.pk).update(
        start=soon, end=soon + timedelta(minutes=30)
    )
    with caplog.at_level(logging.ERROR):
        response = api(cast.nurse).post(consult_url(consultation, "check-in"))

    assert response.status_code == 200, response.content
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.CHECKED_IN
    assert any("on_commit" in r.getMessage() for r in caplog.records)


def test_a_note_edit_stands_when_the_live_layer_is_down(
    cast: Any, api: Any, consultation: Consultation, layer_down: None
) -> None:
    response = api(cast.nurse).put(section_url(consultation, "history"), edit(), format="json")

    assert response.status_code == 200, response.content
    assert response.json()["revision"] == 1


def test_a_cancellation_stands_when_the_live_layer_is_down(
    cast: Any, api: Any, consultation: Consultation, layer_down: None
) -> None:
    response = api(cast.nurse).post(
        consult_url(consultation, "cancel"), {"reason": "Bệnh nhân chuyển viện"}, format="json"
    )

    assert response.status_code == 200, response.content
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.CANCELLED
