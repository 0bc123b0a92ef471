"""Delivery receipts: POST /webhooks/messages/<provider>/, signed with HMAC-SHA256 of the raw
body under MESSAGES_WEBHOOK_SECRET in `X-Signature` (hex). Formats: docs/messages.md."""

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from consults.messaging.models import OutboundMessage
from telehealth.codes import Code

Status = OutboundMessage.Status


def _signed(request: HttpRequest) -> bool:
    secret = settings.MESSAGES_WEBHOOK_SECRET.encode()
    given = request.headers.get("X-Signature", "")
    expected = hmac.new(secret, request.body, hashlib.sha256).hexdigest()
    # No secret configured: no receipt is believed.
    return bool(secret) and hmac.compare_digest(given, expected)


def _receipt(provider: str, payload: dict[str, Any]) -> tuple[str, bool] | None:
    """(provider's message id, delivered?) from the provider's own receipt format."""
    if provider == "sms":
        return str(payload.get("SMSID", "")), str(payload.get("SendStatus")) == "5"
    message = payload.get("message") or {}
    event = payload.get("event_name")
    if event not in ("user_received_message", "user_not_received_message"):
        return None
    return str(message.get("msg_id", "")), event == "user_received_message"


def receipt_apply(*, provider: str, provider_id: str, delivered: bool) -> int:
    """A receipt moves a sent message to delivered (or dead: the provider gave up)."""
    mine = OutboundMessage.objects.filter(
        provider=provider, provider_id=provider_id, status=Status.SENT
    )
    if delivered:
        return mine.update(status=Status.DELIVERED, delivered_at=timezone.now())
    return mine.update(status=Status.DEAD, error="the provider reported it undelivered")


@csrf_exempt
@require_POST
def receipt_view(request: HttpRequest, provider: str) -> HttpResponse:
    if provider not in ("sms", "zalo"):
        return JsonResponse({"code": Code.NOT_FOUND, "message": _("Not found.")}, status=404)
    if not _signed(request):
        return JsonResponse(
            {"code": Code.BAD_SIGNATURE, "message": _("The receipt's signature is wrong.")},
            status=403,
        )
    try:
        payload = json.loads(request.body)
    except ValueError:
        payload = None
    receipt = _receipt(provider, payload) if isinstance(payload, dict) else None
    if receipt is None or not receipt[0]:
        return JsonResponse(
            {"code": Code.INVALID, "message": _("Not a receipt this endpoint knows.")}, status=400
        )
    updated = receipt_apply(provider=provider, provider_id=receipt[0], delivered=receipt[1])
    return JsonResponse({"updated": updated})
