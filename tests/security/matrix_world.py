"""The world the authorization matrix runs in: one consult with everything hanging off it."""

import io
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from clinics.audit import Via
from clinics.models import User
from consults.models import Consultation
from consults.notes.attachments import attachment_add
from consults.room.services import guest_invite_create
from consults.scheduling.models import CalendarFeed, ConsultRequest
from consults.scheduling.triage import consult_request_file
from tests import factories
from tests.conftest import Cast

ROLES = [
    "station",
    "other_station",
    "specialist",
    "other_specialist",
    "coordinator",
    "other_coordinator",
    "guest",
    "anonymous",
]
BOGUS = "0" * 32


@dataclass
class World:
    cast: Cast
    consultation: Consultation
    request: ConsultRequest
    attachment_id: str
    guest_id: str
    guest_token: str
    calendar_token: str

    def user(self, role: str) -> User | None:
        return {
            "station": self.cast.nurse,
            "other_station": self.cast.outsider_nurse,
            "specialist": self.cast.specialist,
            "other_specialist": self.cast.other_specialist,
            "coordinator": self.cast.coordinator,
            "other_coordinator": self.cast.other_coordinator,
        }.get(role)

    def kwargs(self, route: str, role: str) -> dict[str, Any]:
        """Path parameters for `route`: the world's own objects (secrets only for those
        who hold them: a guest holds the guest link, the station nurse her feed token)."""
        values: dict[str, Any] = {}
        if "{id}" in route:
            if route.startswith("/api/v1/patients/") or route.startswith("/patients/"):
                values["id"] = self.cast.patient.external_id
            elif route.startswith("/api/v1/facilities/"):
                values["id"] = self.cast.hospital.external_id
            elif route.startswith("/api/v1/requests/"):
                values["id"] = self.request.consultation.external_id  # a request is its consult
            else:
                values["id"] = self.consultation.external_id
        if "{attachment_id}" in route:
            values["attachment_id"] = self.attachment_id
        if "{guest_id}" in route:
            values["guest_id"] = self.guest_id
        if "{section}" in route:
            values["section"] = "history"
        if "{token}" in route:
            holds = (route.startswith("/room/guest/") and role == "guest") or (
                route.startswith("/api/v1/calendar/") and role == "station"
            )
            values["token"] = (
                (self.guest_token if route.startswith("/room/") else self.calendar_token)
                if holds
                else BOGUS
            )
        return values


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def build_world(cast: Cast) -> World:
    consultation = factories.make_consultation(
        patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital, room=cast.room
    )
    request = consult_request_file(
        patient=cast.patient,
        specialty=factories.make_specialty(),
        hospital=cast.hospital,
        reason="Đau ngực khi gắng sức",
        urgency="routine",
        preferred_windows=[],
        notes="",
        actor=cast.nurse,
        via=Via(),
    )
    upload = SimpleUploadedFile("ecg.png", png_bytes(), content_type="image/png")
    attachment = attachment_add(
        consultation=consultation, upload=upload, caption="", actor=cast.nurse, via=Via()
    )
    invite, guest_token = guest_invite_create(
        consultation=consultation, kind="interpreter", minutes=60, actor=cast.specialist
    )
    feed = CalendarFeed.objects.create(user=cast.nurse)
    return World(
        cast=cast,
        consultation=consultation,
        request=request,
        attachment_id=str(attachment.external_id),
        guest_id=str(invite.external_id),
        guest_token=guest_token,
        calendar_token=feed.token,
    )
