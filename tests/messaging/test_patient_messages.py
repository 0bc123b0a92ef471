"""The patient's messages follow the consult: booked → two reminders; moved → new reminders
and a notice; cancelled → the reminders cancelled and a notice. Only with consent."""

from datetime import date, timedelta
from typing import Any

import pytest

from clinics.models import Consent
from consults.messaging.models import OutboundMessage
from consults.models import Consultation
from tests.conftest import Cast
from tests.scheduling.conftest import BookFn, at

S = OutboundMessage.Status


@pytest.fixture
def contactable(cast: Cast) -> None:
    cast.patient.phone = "+84912345678"
    cast.patient.save()
    Consent.objects.create(
        patient=cast.patient,
        purpose=Consent.Purpose.CONTACT,
        status=Consent.Status.GIVEN,
        recorded_by=cast.nurse,
    )


def messages() -> list[tuple[str, str]]:
    return list(OutboundMessage.objects.order_by("id").values_list("kind", "status"))


def url(consult: Consultation, action: str) -> str:
    return f"/api/v1/consultations/{consult.external_id}/{action}/"


def booked(book: BookFn, day: date) -> Consultation:
    response = book(at(day, 9))
    assert response.status_code == 201, response.json()
    return Consultation.objects.get(external_id=response.json()["id"])


@pytest.mark.usefixtures("hours", "contactable")
def test_a_booking_queues_the_reminders_24h_and_2h_before(book: BookFn, day: date) -> None:
    consult = booked(book, day)
    rows = OutboundMessage.objects.order_by("next_attempt_at")
    assert consult.start is not None
    assert [(m.kind, m.next_attempt_at, m.to, m.channel) for m in rows] == [
        ("patient_24h", consult.start - timedelta(hours=24), "+84912345678", "zalo"),
        ("patient_2h", consult.start - timedelta(hours=2), "+84912345678", "zalo"),
    ]


@pytest.mark.usefixtures("hours", "contactable")
def test_a_move_replaces_the_reminders_and_tells_the_patient(
    cast: Cast, api: Any, book: BookFn, day: date
) -> None:
    consult = booked(book, day)
    body = {"start": at(day, 10).isoformat(), "end": at(day, 10, 30).isoformat()}
    assert api(cast.nurse).post(url(consult, "reschedule"), body, format="json").status_code == 200
    assert messages() == [
        ("patient_24h", S.QUEUED),
        ("patient_2h", S.QUEUED),
        ("patient_moved", S.QUEUED),
    ]
    reminder = OutboundMessage.objects.filter(kind="patient_2h").get()
    assert reminder.next_attempt_at == at(day, 8)
    notice = OutboundMessage.objects.get(kind="patient_moved")
    assert notice.body.startswith("Lịch khám từ xa")
    assert "10:00" in notice.body

    back = {"start": at(day, 9).isoformat(), "end": at(day, 9, 30).isoformat()}
    assert api(cast.nurse).post(url(consult, "reschedule"), back, format="json").status_code == 200
    assert OutboundMessage.objects.get(kind="patient_2h").next_attempt_at == at(day, 7)


@pytest.mark.usefixtures("hours", "contactable")
def test_a_cancellation_cancels_the_reminders_and_tells_the_patient(
    cast: Cast, api: Any, book: BookFn, day: date
) -> None:
    consult = booked(book, day)
    response = api(cast.nurse).post(url(consult, "cancel"), {"reason": "x"}, format="json")
    assert response.status_code == 200
    assert messages() == [
        ("patient_24h", S.CANCELLED),
        ("patient_2h", S.CANCELLED),
        ("patient_cancelled", S.QUEUED),
    ]
    assert "hủy" in OutboundMessage.objects.get(kind="patient_cancelled").body


@pytest.mark.usefixtures("hours")
def test_a_patient_without_consent_gets_no_message_at_all(
    cast: Cast, api: Any, book: BookFn, day: date
) -> None:
    cast.patient.phone = "+84912345678"
    cast.patient.save()
    consult = booked(book, day)
    api(cast.nurse).post(url(consult, "cancel"), {"reason": "x"}, format="json")
    assert messages() == []


@pytest.mark.usefixtures("contactable")
def test_a_request_withdrawn_before_it_had_a_time_tells_the_patient_nothing(
    cast: Cast, api: Any
) -> None:
    filed = api(cast.nurse).post(
        "/api/v1/requests/",
        {
            "patient": str(cast.patient.external_id),
            "specialty": "cardiology",
            "hospital": str(cast.hospital.external_id),
            "reason": "Khó thở khi nằm",
        },
        format="json",
    )
    assert filed.status_code == 201, filed.json()
    consult = filed.json()["consultation"]["id"]
    response = api(cast.nurse).post(
        f"/api/v1/consultations/{consult}/cancel/",
        {"reason": "Gia đình rút yêu cầu"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert messages() == []
