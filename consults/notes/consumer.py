"""A minimal consult socket for the notes, at /ws/consultations/<id>/notes/, until the
room consumer (/ws/consultations/<id>/) dispatches frames.HANDLERS itself.

Close codes: 4401 not logged in, 4403 not a participant, 4404 no such consult (or not
visible), 4429 too many messages. Authorization runs on connect and on every message.
"""

import json
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer
from django.utils.translation import gettext as _

from clinics.audit import Via
from clinics.models import User
from consults.access import can_join_consultation, consultation_get_for_user
from consults.models import Consultation
from consults.notes import events, frames
from telehealth.errors import AppError

MAX_FRAME_BYTES = 64 * 1024
RATE_PER_SECOND = 40


class NotesConsumer(JsonWebsocketConsumer):
    session: frames.Session | None = None

    def _authorize(self) -> int | None:
        """On connect: the consult must be visible and the user on it. Close code, or None."""
        user = self.scope.get("user")
        if not isinstance(user, User) or not user.is_authenticated:
            return 4401
        try:
            consultation = consultation_get_for_user(user, self.scope["url_route"]["kwargs"]["id"])
        except AppError:
            return 4404
        if not can_join_consultation(user, consultation):
            return 4403
        self.session = frames.Session(user, consultation, Via.ws(self.scope))
        return None

    def _still_allowed(self, session: frames.Session) -> bool:
        """Before every message: still a participant? The consult's parties are re-read
        (a specialist may be reassigned mid-call); membership is checked by the same
        predicate as on connect. Participants are a subset of those who may see it."""
        consultation = session.consultation
        parties = (
            Consultation.objects.filter(pk=consultation.pk)
            .values("station_id", "specialist_id")
            .first()
        )
        if parties is None:
            return False
        consultation.station_id = parties["station_id"]
        consultation.specialist_id = parties["specialist_id"]
        return can_join_consultation(session.user, consultation)

    def connect(self) -> None:
        self.accept()
        code = self._authorize()
        if code is not None or self.session is None:
            self.close(code=code)
            return
        self.group = events.notes_group(self.session.consultation)
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        self.window = (time.monotonic(), 0)
        self.send_json(frames.notes_sync(self.session, {}))

    def disconnect(self, code: int) -> None:
        if self.session is not None and hasattr(self, "group"):
            async_to_sync(self.channel_layer.group_discard)(self.group, self.channel_name)

    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None or len(text_data.encode()) > MAX_FRAME_BYTES:
            self.send_json(events.error_frame("frame_too_large", _("Message too large.")))
            return
        if self._over_rate():
            self.close(code=4429)
            return
        if self.session is None or not self._still_allowed(self.session):
            self.close(code=4404)
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            self.send_json(events.error_frame("malformed_frame", _("Not valid JSON.")))
            return
        reply = frames.handle_frame(self.session, frame)
        if reply is not None:
            self.send_json(reply)

    def _over_rate(self) -> bool:
        started, count = self.window
        now = time.monotonic()
        if now - started >= 1.0:
            self.window = (now, 1)
            return False
        self.window = (started, count + 1)
        return count + 1 > RATE_PER_SECOND

    def notes_event(self, event: dict[str, Any]) -> None:
        self.send_json(event["payload"])
