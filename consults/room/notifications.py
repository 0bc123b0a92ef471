"""A user's live feed (/ws/notifications/): the specialist's waiting patients, live.

The feed names patients, so every frame that shows one is a read of patient data and goes to
the audit log (DESIGN.md), one entry per consult shown, as the snapshot and each event leave.
"""

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from clinics.audit import Via, audit_reads
from consults.access import consultations_visible_to
from consults.models import Consultation
from consults.realtime.close import CloseCode
from consults.room.events import consultation_feed_payload, user_group
from consults.room.sessions import join_session_group, leave_session_group

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


class NotificationsConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CloseCode.UNAUTHENTICATED)
            return
        self.user, self.via = user, Via.ws(self.scope)
        self.group = user_group(user.external_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await join_session_group(self)
        await self.send_json({"type": "snapshot", "waiting": await _waiting(user, self.via)})

    async def disconnect(self, code: int) -> None:
        await leave_session_group(self)
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            data = json.loads(text_data or "")
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("type") == "ping" and len(text_data or "") < 256:
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "code": "unknown_type", "message": ""})

    async def send_json(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame))

    async def session_ended(self, event: dict[str, Any]) -> None:
        await self.close(code=CloseCode.UNAUTHENTICATED)

    async def notify_event(self, event: dict[str, Any]) -> None:
        frame = event["event"]
        shown = frame.get("consultation")
        if isinstance(shown, dict) and shown.get("patient"):
            await _audit_event(self.user, shown["id"], self.via)
        await self.send_json(frame)
