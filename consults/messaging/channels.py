"""Channel adapters behind one interface: `send(message) -> Sent`, raising SendError.

The request id each provider is given is the message's own id, so a send retried after a
crash (the worker died before it could mark the row) is recognised by the provider as the
same message, not a second one. Formats: docs/messages.md.
"""

import json
import logging
import urllib.error
import urllib.request
from typing import Any, NamedTuple, Protocol

from django.conf import settings
from django.core.mail import send_mail

from consults.messaging.models import OutboundMessage

logger = logging.getLogger(__name__)


class Sent(NamedTuple):
    provider: str
    provider_id: str


class SendError(Exception):
    """The provider did not take the message (an error answer, a timeout, a refused link)."""


class Channel(Protocol):
    def send(self, message: OutboundMessage) -> Sent: ...


def _post_json(url: str, payload: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (the URL is the operator's setting)
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.MESSAGES_HTTP_TIMEOUT) as answer:  # noqa: S310
            body: dict[str, Any] = json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise SendError(f"HTTP {exc.code}") from exc
    except (OSError, ValueError) as exc:
        raise SendError(str(exc) or type(exc).__name__) from exc
    return body


def _digits(e164: str) -> str:
    """`+84912345678` → `84912345678`: both providers take the number without the plus."""
    return e164.lstrip("+")


class EmailChannel:
    def send(self, message: OutboundMessage) -> Sent:
        try:
            send_mail(message.subject, message.body, None, [message.to], fail_silently=False)
        except Exception as exc:  # the mail backend's own errors (SMTP, socket)
            raise SendError(str(exc)[:200] or type(exc).__name__) from exc
        return Sent("email", str(message.external_id))


class SmsHttpChannel:
    """A brand-name SMS provider's JSON API (eSMS's shape: `CodeResult` "100" is accepted)."""

    def send(self, message: OutboundMessage) -> Sent:
        if not settings.MESSAGES_SMS_URL:
            logger.info("SMS to %s: %s", message.to, message.body)
            return Sent("log", str(message.external_id))
        answer = _post_json(
            settings.MESSAGES_SMS_URL,
            {
                "ApiKey": settings.MESSAGES_SMS_API_KEY,
                "SecretKey": settings.MESSAGES_SMS_SECRET,
                "Brandname": settings.MESSAGES_SMS_BRANDNAME,
                "SmsType": "2",
                "IsUnicode": "1",
                "Phone": _digits(message.to),
                "Content": message.body,
                "RequestId": str(message.external_id),
            },
            {},
        )
        if str(answer.get("CodeResult")) != "100" or not answer.get("SMSID"):
            raise SendError(
                f"sms {answer.get('CodeResult')}: {answer.get('ErrorMessage', '')}"[:200]
            )
        return Sent("sms", str(answer["SMSID"]))


class ZaloZnsChannel:
    """Zalo ZNS template message through the Official Account (`error` 0 is accepted)."""

    def send(self, message: OutboundMessage) -> Sent:
        if not settings.MESSAGES_ZALO_URL:
            raise SendError("zalo is not configured")
        answer = _post_json(
            settings.MESSAGES_ZALO_URL,
            {
                "phone": _digits(message.to),
                "template_id": settings.MESSAGES_ZALO_TEMPLATE_ID,
                "template_data": message.params,
                "tracking_id": str(message.external_id),
            },
            {"access_token": settings.MESSAGES_ZALO_ACCESS_TOKEN},
        )
        msg_id = (answer.get("data") or {}).get("msg_id")
        if answer.get("error") != 0 or not msg_id:
            raise SendError(f"zalo {answer.get('error')}: {answer.get('message', '')}"[:200])
        return Sent("zalo", str(msg_id))


class ZaloThenSms:
    """Zalo first; SMS to the same number when the number has no Zalo or Zalo fails."""

    def __init__(self, zalo: Channel, sms: Channel) -> None:
        self.zalo, self.sms = zalo, sms

    def send(self, message: OutboundMessage) -> Sent:
        try:
            return self.zalo.send(message)
        except SendError as exc:
            logger.info("message %s: zalo failed (%s), falling back to SMS", message.pk, exc)
            return self.sms.send(message)


def channel_for(message: OutboundMessage) -> Channel:
    if message.channel == OutboundMessage.Channel.EMAIL:
        return EmailChannel()
    if message.channel == OutboundMessage.Channel.SMS:
        return SmsHttpChannel()
    return ZaloThenSms(ZaloZnsChannel(), SmsHttpChannel())
