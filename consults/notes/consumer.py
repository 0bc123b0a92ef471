"""The notes socket, /ws/consultations/<id>/notes/: live notes and chat of one consult.

A socket of its own beside the room's (docs/decisions.md says why). Its refusals match the
room's (docs/signaling.md): 4401 not logged in, 4403 not on this consult (also when access
is lost mid-session), 4404 no consult has this id, 4429 too many messages; each close is
preceded by an `error` frame naming the reason. Authorization runs on connect and on every
message.
"""

import json
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer
from django.utils.translation import gettext as _

from clinics.audit import Via
from clinics.models import User
from consults.access import can_join_consultation
from consults.models import Consultation
from consults.notes import events, frames
from consults.realtime.close import CloseCode, RoomDenied
from consults.room.access import (
    consultation_by_id,
)
from consults.room.sessions import join_session_group, leave_session_group

MAX_FRAME_BYTES = 64 * 1024
RATE_PER_SECOND = 40


class NotesConsumer(JsonWebsocketConsumer):
    session: frames.Session | None = None

    def _authorize(self) -> frames.Session:
        """On connect: the consult must exist and the user be on it, the same rule and the
        same codes as the room (an outsider's 4403 confirms only an id they were given)."""
        user = self.scope.get("user")
        if not isinstance(user, User) or not user.is_authenticated:
            raise RoomDenied(CloseCode.UNAUTHENTICATED, "not_authenticated")
        consultation = consultation_by_id(self.scope["url_route"]["kwargs"]["id"])
        if not can_join_consultation(user, consultation):
            raise RoomDenied(CloseCode.FORBIDDEN, "not_a_participant")
        return frames.Session(user, consultation, Via.ws(self.scope))

    def _recheck(self, session: frames.Session) -> None:
        """Before every message: still a participant? The consult's parties are re-read
        (a specialist may be reassigned mid-call); membership is checked by the same
        predicate as on connect. One query per frame is affordable here: note frames are
        a person's saves, not the room's signaling relay."""
        consultation = session.consultation
        parties = (
            Consultation.objects.filter(pk=consultation.pk)
            .values("station_id", "specialist_id")
            .first()
        )
        if parties is None:
            raise RoomDenied(CloseCode.NOT_FOUND, "not_found")
        consultation.station_id = parties["station_id"]
        consultation.specialist_id = parties["specialist_id"]
        if not can_join_consultation(session.user, consultation):
            raise RoomDenied(CloseCode.FORBIDDEN, "access_revoked")

    def _deny(self, denied: RoomDenied) -> None:
        self.session = None
        self.send_json(events.error_frame(denied.code, denied.code))
        self.close(code=denied.close_code)

    def connect(self) -> None:
        self.accept()
        try:
            self.session = self._authorize()
        except RoomDenied as denied:
            self._deny(denied)
            return
        self.group = events.notes_group(self.session.consultation)
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        async_to_sync(join_session_group)(self)
        self.window = (time.monotonic(), 0)
        self.send_json(frames.notes_sync(self.session, {}))

    def disconnect(self, code: int) -> None:
        async_to_sync(leave_session_group)(self)
        if hasattr(self, "group"):
            async_to_sync(self.channel_layer.group_discard)(self.group, self.channel_name)

    def session_ended(self, event: dict[str, Any]) -> None:
        self._deny(RoomDenied(CloseCode.UNAUTHENTICATED, "logged_out"))

    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.session is None:
            return  # refused already: a frame racing the close is dropped
        if text_data is None or len(text_data.encode()) > MAX_FRAME_BYTES:
            self.send_json(events.error_frame("frame_too_large", _("Message too large.")))
            return
        if self._over_rate():
            self.close(code=CloseCode.RATE_LIMITED)
            return
        try:
            self._recheck(self.session)
        except RoomDenied as denied:
            self._deny(denied)
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
        if self.session is not None:  # not to a connection refused mid-session
            self.send_json(event["payload"])
