"""The outbound queue against the local fake providers: retried, sent once, dead-lettered,
resent by staff, Zalo falling back to SMS, only with the patient's consent."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from clinics.models import Consent
from consults.messaging.models import OutboundMessage
from consults.messaging.patient import patient_reminders_plan
from consults.messaging.queue import message_enqueue, send_due
from consults.notes.notify import notify_on_commit
from tests import factories
from tests.conftest import Cast
from tests.messaging.fake_providers import FakeProviders
from tests.two_factor import login_verified

S = OutboundMessage.Status


def later(minutes: int) -> Any:
    return timezone.now() + timedelta(minutes=minutes)


def sms(key: str = "k1") -> OutboundMessage:
    message = message_enqueue(channel="sms", to="+84912345678", body="Nhắc lịch", key=key)
    assert message is not None
    return message


def consent(cast: Cast, status: str) -> None:
    Consent.objects.create(
        patient=cast.patient, purpose=Consent.Purpose.CONTACT, status=status, recorded_by=cast.nurse
    )


@pytest.mark.django_db
def test_a_provider_answering_500_twice_then_200_delivers_it_once(
    providers: FakeProviders,
) -> None:
    providers.script["/sms"] = [500, 500]
    message = sms()
    assert send_due() == {S.FAILED: 1}
    assert send_due() == {}  # not yet due again: backoff
    assert send_due(now=later(5)) == {S.FAILED: 1}
    assert send_due(now=later(30)) == {S.SENT: 1}
    message.refresh_from_db()
    assert (message.status, message.attempts, message.provider) == (S.SENT, 3, "sms")
    assert providers.sent_to("/sms") == 3
    assert len(providers.delivered) == 1
    assert send_due(now=later(600)) == {}


@pytest.mark.django_db
def test_the_same_key_twice_is_one_message(providers: FakeProviders) -> None:
    assert sms("once").pk == sms("once").pk
    send_due()
    assert providers.sent_to("/sms") == 1


@pytest.mark.django_db
def test_it_dead_letters_after_n_failures_and_staff_resend_it(
    providers: FakeProviders, cast: Cast, settings: Any
) -> None:
    settings.MESSAGES_MAX_ATTEMPTS = 3
    providers.script["/sms"] = [503, 503, 503]
    message = sms()
    for minutes in (0, 10, 60):
        send_due(now=later(minutes))
    message.refresh_from_db()
    assert message.status == S.DEAD
    assert message.attempts == 3
    assert send_due(now=later(600)) == {}  # a dead letter is not retried by itself

    client = Client()
    login_verified(client, cast.admin)  # the admin site is behind the second factor
    response = client.post(
        "/admin/consults/outboundmessage/",
        {"action": "resend", "_selected_action": [message.pk]},
    )
    assert response.status_code == 302
    assert send_due() == {S.SENT: 1}
    message.refresh_from_db()
    assert message.status == S.SENT
    assert message.attempts == 1


@pytest.mark.django_db
def test_zalo_falls_back_to_sms_when_the_number_has_no_zalo(providers: FakeProviders) -> None:
    providers.no_zalo.add("84912345678")
    message_enqueue(channel="zalo", to="+84912345678", body="Nhắc lịch", key="z1")
    assert send_due() == {S.SENT: 1}
    message = OutboundMessage.objects.get()
    assert message.provider == "sms"
    assert [p for p, _ in providers.requests] == ["/zns", "/sms"]


@pytest.mark.django_db
def test_zalo_falls_back_to_sms_when_zalo_answers_an_error(providers: FakeProviders) -> None:
    providers.script["/zns"] = [502]
    message_enqueue(channel="zalo", to="+84912345678", body="x", key="z2")
    send_due()
    assert OutboundMessage.objects.get().provider == "sms"


@pytest.mark.django_db
def test_a_zalo_user_gets_zalo_with_the_template_and_tracking_id(
    providers: FakeProviders,
) -> None:
    message = message_enqueue(
        channel="zalo", to="+84912345678", body="x", key="z3", params={"time": "09:00"}
    )
    assert message is not None
    send_due()
    path, payload = providers.requests[0]
    assert path == "/zns"
    assert payload["template_id"] == "241021"
    assert payload["tracking_id"] == str(message.external_id)
    assert payload["template_data"] == {"time": "09:00"}
    message.refresh_from_db()
    assert (message.provider, message.provider_id) == ("zalo", "zns-1")


@pytest.mark.django_db
def test_no_patient_message_is_sent_without_consent_to_be_contacted(
    providers: FakeProviders, cast: Cast
) -> None:
    cast.patient.phone = "+84912345678"
    cast.patient.save()
    start = timezone.now() + timedelta(days=3)
    consult = factories.make_consultation(
        patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital, start=start
    )
    patient_reminders_plan(consult)
    assert not OutboundMessage.objects.exists()  # no consent recorded

    consent(cast, Consent.Status.GIVEN)
    patient_reminders_plan(consult)
    assert OutboundMessage.objects.filter(status=S.QUEUED).count() == 2
    consent(cast, Consent.Status.WITHDRAWN)  # withdrawn after they were queued
    assert send_due(now=start) == {S.CANCELLED: 2}
    assert providers.requests == []


@pytest.mark.django_db
def test_the_patient_reminder_names_the_station_time_and_phone(
    providers: FakeProviders, cast: Cast
) -> None:
    consent(cast, Consent.Status.GIVEN)
    cast.patient.phone = "+84912345678"
    cast.patient.save()
    cast.station.hotline = "+842063800115"
    cast.station.save()
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=3)
    consult = factories.make_consultation(
        patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital, start=start
    )
    patient_reminders_plan(consult)
    due = OutboundMessage.objects.order_by("next_attempt_at")
    leads = [start - timedelta(hours=24), start - timedelta(hours=2)]
    assert [m.next_attempt_at for m in due] == leads
    body = due[0].body
    assert body.startswith("Nhắc lịch khám từ xa")
    assert cast.station.name in body
    assert "0206 3800 115" in body
    assert timezone.localtime(start).strftime("%H:%M %d/%m/%Y") in body


class BlockingMailBackend:
    """A mail server that does not answer until released."""

    release = threading.Event()
    sent: list[Any] = []

    def __init__(self, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: list[Any]) -> int:
        assert self.release.wait(10)
        self.sent.extend(messages)
        return len(messages)


@pytest.mark.django_db
def test_a_notice_does_not_wait_on_the_mail_server(
    cast: Cast, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_BACKEND = "tests.messaging.test_queue.BlockingMailBackend"
    BlockingMailBackend.release.clear()
    cast.nurse.email = "tram@example.vn"
    cast.nurse.save()
    event = {"type": "report_signed", "consultation": "x"}
    with django_capture_on_commit_callbacks(execute=True):
        notify_on_commit([cast.nurse], subject="Báo cáo", body="Đã ký", event=event)
    queued = OutboundMessage.objects.get()
    assert (queued.status, queued.channel, queued.to) == (S.QUEUED, "email", "tram@example.vn")

    BlockingMailBackend.release.set()
    assert send_due() == {S.SENT: 1}
    assert [m.to for m in BlockingMailBackend.sent] == [["tram@example.vn"]]
    assert mail.outbox == []
