"""Delivery receipts: POST /webhooks/messages/<provider>/, HMAC-signed."""

import hashlib
import hmac
import json
from typing import Any

import pytest
from django.test import Client

from consults.messaging.models import OutboundMessage
from consults.messaging.queue import message_enqueue, send_due
from tests.messaging.fake_providers import FakeProviders

S = OutboundMessage.Status


def post(provider: str, payload: dict[str, Any], secret: str = "receipt-secret") -> Any:
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return Client().post(
        f"/webhooks/messages/{provider}/",
        body,
        content_type="application/json",
        headers={"X-Signature": signature},
    )


def sent(channel: str) -> OutboundMessage:
    message_enqueue(channel=channel, to="+84912345678", body="x", key=channel)
    send_due()
    return OutboundMessage.objects.get(idempotency_key=channel)


@pytest.mark.django_db
def test_an_sms_receipt_marks_the_message_delivered(providers: FakeProviders) -> None:
    message = sent("sms")
    response = post("sms", {"SMSID": message.provider_id, "SendStatus": "5"})
    assert response.status_code == 200
    assert response.json() == {"updated": 1}
    message.refresh_from_db()
    assert message.status == S.DELIVERED
    assert message.delivered_at is not None


@pytest.mark.django_db
def test_a_zalo_receipt_marks_the_message_delivered(providers: FakeProviders) -> None:
    message = sent("zalo")
    response = post("zalo", {"event_name": "user_received_message", "message": {"msg_id": "zns-1"}})
    assert response.json() == {"updated": 1}
    message.refresh_from_db()
    assert message.status == S.DELIVERED


@pytest.mark.django_db
def test_an_undelivered_receipt_dead_letters_it(providers: FakeProviders) -> None:
    message = sent("sms")
    post("sms", {"SMSID": message.provider_id, "SendStatus": "6"})
    message.refresh_from_db()
    assert message.status == S.DEAD


@pytest.mark.django_db
def test_it_refuses_a_receipt_with_a_bad_signature(providers: FakeProviders) -> None:
    message = sent("sms")
    response = post("sms", {"SMSID": message.provider_id, "SendStatus": "5"}, secret="guess")
    assert response.status_code == 403
    assert response.json()["code"] == "bad_signature"
    message.refresh_from_db()
    assert message.status == S.SENT


@pytest.mark.django_db
def test_it_refuses_an_unsigned_receipt_and_an_unknown_provider(
    providers: FakeProviders,
) -> None:
    response = Client().post("/webhooks/messages/sms/", "{}", content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "bad_signature"
    assert post("fax", {}).status_code == 404


@pytest.mark.django_db
def test_it_refuses_a_signed_body_that_is_no_receipt(providers: FakeProviders) -> None:
    response = post("zalo", {"event_name": "follow"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
