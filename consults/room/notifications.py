"""A user's live feed (/ws/notifications/): the specialist's waiting patients, live.

The feed names patients, so every frame that shows one is a read of patient data and goes to
the audit log (DESIGN.md), one entry per consult shown, as the snapshot and each event leave.
"""

import json
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinics.audit import Via, audit_reads
from consults.access import consultations_visible_to
from consults.models import Consultation
from consults.realtime.close import CloseCode, RoomDenied
from consults.realtime.events import consultation_feed_payload
from consults.realtime.groups import user_group
from consults.realtime.guard import AsyncSocket, Limits
from telehealth.codes import Code

FEED_MAX_FRAME_BYTES = 1024  # the feed's only client frame is `ping`

S = Consultation.Status


@database_sync_to_async
def _waiting(user: Any, via: Via) -> list[dict[str, Any]]:
    """Consults this user is on whose patient is waiting (checked in or interrupted)."""
    qs = consultations_visible_to(user).filter(status__in=[S.CHECKED_IN, S.INTERRUPTED])
    waiting = list(qs.order_by("start")[:100])
    audit_reads(
        actor=user,
        object_type="consultation",
        shown=((c.external_id, c.patient.external_id) for c in waiting),
        via=via,
    )
    return [consultation_feed_payload(c) for c in waiting]


@database_sync_to_async
def _audit_event(user: Any, consultation_id: str, via: Via) -> None:
    patient = (
        Consultation.objects.filter(external_id=consultation_id)
        .values_list("patient__external_id", flat=True)
        .first()
    )
    audit_reads(actor=user, object_type="consultation", shown=[(consultation_id, patient)], via=via)


class NotificationsConsumer(AsyncSocket):
    def guard_limits(self) -> Limits:
        return Limits(
            max_frame_bytes=FEED_MAX_FRAME_BYTES,
            burst=settings.ROOM_RATE_BURST,
            per_second=settings.ROOM_RATE_PER_SECOND,
            too_large=gettext_lazy("Message too large."),
            recheck_seconds=settings.FEED_RECHECK_SECONDS,  # the session's idleness
        )

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.deny(RoomDenied(CloseCode.UNAUTHENTICATED, Code.NOT_AUTHENTICATED))
            return
        if not await self.session_open():
            return
        self.user, self.via = user, Via.ws(self.scope)
        self.group = user_group(user.external_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_frame({"type": "snapshot", "waiting": await _waiting(user, self.via)})

    async def disconnect(self, code: int) -> None:
        await self.leave_session_group()
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            data = json.loads(text_data or "")
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            await self.error(Code.MALFORMED, _("A frame is a JSON object with a string “type”."))
        elif data["type"] == "ping":
            await self.send_frame({"type": "pong"})
        else:
            await self.error(Code.UNKNOWN_TYPE, _("Unknown frame type."), data["type"][:64])

    async def notify_event(self, event: dict[str, Any]) -> None:
        frame = event["event"]
        shown = frame.get("consultation")
        if isinstance(shown, dict) and shown.get("patient"):
            await _audit_event(self.user, shown["id"], self.via)
        await self.send_frame(frame)
