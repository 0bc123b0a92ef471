"""The notes socket, /ws/consultations/<id>/notes/: live notes and chat of one consult.

A socket of its own beside the room's (docs/decisions.md says why), behind the same guard
(consults.realtime.guard) and with the same codes (docs/signaling.md): 4401 not logged in,
4403 not on this consult (also when access is lost mid-session), 4404 no consult has this
id, 4429 too many frames; each close is preceded by an `error` frame naming the reason.
Authorization runs on connect, on every frame and every NOTES_RECHECK_SECONDS (which also
re-checks the session's idleness).
"""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinics.audit import Via
from clinics.models import User
from consults.access import can_join_consultation
from consults.models import Consultation
from consults.notes import frames
from consults.realtime.close import CloseCode, RoomDenied
from consults.realtime.groups import notes_group
from consults.realtime.guard import Limits, SyncSocket, parse_json
from consults.room.access import consultation_by_id
from telehealth.codes import Code


class NotesConsumer(SyncSocket):
    session: frames.Session | None = None

    def guard_limits(self) -> Limits:
        return Limits(
            max_frame_bytes=settings.NOTES_MAX_FRAME_BYTES,
            burst=settings.NOTES_RATE_BURST,
            per_second=settings.NOTES_RATE_PER_SECOND,
            too_large=gettext_lazy("Message too large."),
            recheck_seconds=settings.NOTES_RECHECK_SECONDS,
        )

    def _authorize(self) -> frames.Session:
        """On connect: the consult must exist and the user be on it, the same rule and the
        same codes as the room (an outsider's 4403 confirms only an id they were given)."""
        user = self.scope.get("user")
        if not isinstance(user, User) or not user.is_authenticated:
            raise RoomDenied(CloseCode.UNAUTHENTICATED, Code.NOT_AUTHENTICATED)
        consultation = consultation_by_id(self.scope["url_route"]["kwargs"]["id"])
        if not can_join_consultation(user, consultation):
            raise RoomDenied(CloseCode.FORBIDDEN, Code.NOT_A_PARTICIPANT)
        return frames.Session(user, consultation, Via.ws(self.scope))

    def _recheck(self, session: frames.Session) -> None:
        """Still a participant? The consult's parties are re-read (a specialist may be
        reassigned mid-call); membership is checked by the same predicate as on connect.
        One query per frame is affordable here: note frames are a person's saves, not the
        room's signaling relay."""
        consultation = session.consultation
        parties = (
            Consultation.objects.filter(pk=consultation.pk)
            .values("station_id", "specialist_id")
            .first()
        )
        if parties is None:
            raise RoomDenied(CloseCode.NOT_FOUND, Code.NOT_FOUND)
        consultation.station_id = parties["station_id"]
        consultation.specialist_id = parties["specialist_id"]
        if not can_join_consultation(session.user, consultation):
            raise RoomDenied(CloseCode.FORBIDDEN, Code.ACCESS_REVOKED)

    def _still_allowed(self) -> frames.Session | None:
        if self.closing or self.session is None:
            return None
        try:
            self._recheck(self.session)
        except RoomDenied as denied:
            self.deny(denied)
            return None
        return self.session

    def connect(self) -> None:
        self.accept()
        if not self.session_open():
            return  # idle or logged out: refused before anything is read
        try:
            self.session = self._authorize()
        except RoomDenied as denied:
            self.deny(denied)
            return
        self.group = notes_group(self.session.consultation.external_id)
        self.group_add(self.group)
        self.send_json(frames.notes_sync(self.session, {}))

    def disconnect(self, code: int) -> None:
        self.leave_session_group()
        if hasattr(self, "group"):
            self.group_discard(self.group)

    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        session = self._still_allowed()
        if session is None:
            return  # refused already: a frame racing the close is dropped
        if text_data is None:
            self.error(Code.MALFORMED, _("Send text frames with JSON."))
            return
        try:
            frame = parse_json(text_data)
        except ValueError:
            self.error(Code.MALFORMED, _("The frame is not valid JSON."))
            return
        reply = frames.handle_frame(session, frame)
        if reply is not None:
            self.send_json(reply)

    def guard_recheck(self, event: dict[str, Any]) -> None:
        if self.session_recheck():
            self._still_allowed()

    def notes_event(self, event: dict[str, Any]) -> None:
        if not self.closing:  # not to a connection refused mid-session
            self.send_json(event["payload"])
