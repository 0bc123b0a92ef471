"""The world the authorization matrix runs in: one consult with everything hanging off it,
a second one with a signed report, a request waiting for the station's answer, an
administrator (an `admin` membership, not a superuser), and two programme managers: one at
the health department of the cast's province (Cao Bằng), one at another province's."""

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from clinics.audit import Via
from clinics.models import Facility, Membership, User
from consults.models import Consultation
from consults.notes.attachments import attachment_add
from consults.notes.report import report_sign
from consults.notes.services import note_save
from consults.room.services import guest_invite_create
from consults.scheduling.models import CalendarFeed, ConsultRequest
from consults.scheduling.triage import consult_request_ask_info
from consults.scheduling.waitlist import waitlist_join
from tests import factories
from tests.conftest import Cast

ROLES = [
    "station",
    "other_station",
    "specialist",
    "other_specialist",
    "coordinator",
    "other_coordinator",
    "admin",
    "province_manager",
    "other_province_manager",
    "guest",
    "anonymous",
]
BOGUS = "0" * 32


@dataclass
class World:
    cast: Cast
    consultation: Consultation
    signed: Consultation
    request: ConsultRequest
    admin: User
    province_manager: User
    other_province_manager: User
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
            "admin": self.admin,
            "province_manager": self.province_manager,
            "other_province_manager": self.other_province_manager,
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
            elif _reads_the_report(route):
                values["id"] = self.signed.external_id
            else:
                values["id"] = self.consultation.external_id
        if "{attachment_id}" in route:
            values["attachment_id"] = self.attachment_id
        if "{guest_id}" in route:
            values["guest_id"] = self.guest_id
        if "{section}" in route:
            values["section"] = "history"
        if "{provider}" in route:
            values["provider"] = "sms"  # the delivery receipts' webhook (docs/messages.md)
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

    def form(self, route: str) -> dict[str, Any]:
        """What a page POST sends: the form a real user of that page would submit, naming
        the world's objects, so that access alone decides the answer (each call is rolled
        back). Pages not listed get an empty form."""
        cast = self.cast
        patient, specialist = str(cast.patient.external_id), str(cast.specialist.external_id)
        request = str(self.request.consultation.external_id)
        forms: dict[str, dict[str, Any]] = {
            "/patients/": {
                "full_name": "Hà Thị Nga",
                "date_of_birth": "1975-02-03",
                "sex": "female",
                "citizen_id": factories.citizen_id_for(date(1975, 2, 3), female=True),
            },
            "/patients/{id}/": {"purpose": "recording", "status": "given"},
            # No time chosen: the booking itself answers 400 once access is settled.
            "/book/confirm/": {"patient": patient, "specialist": specialist},
            "/requests/file/": {
                "patient": patient,
                "hospital": str(cast.hospital.external_id),
                "specialty": "cardiology",
                "reason": "Khó thở khi gắng sức",
            },
            "/requests/answer/": {"request": request, "message": "Ảnh điện tim đã gửi kèm."},
            "/availability/": {
                "specialist": specialist,
                "action": "add_rule",
                "weekday": "0",
                "start_time": "08:00",
                "end_time": "11:00",
            },
            "/triage/": {"request": request, "action": "ask_info", "message": "Cân nặng?"},
            "/agenda/waitlist/take/": {"consultation": str(self.consultation.external_id)},
            "/agenda/check-in/": {"consultation": str(self.consultation.external_id)},
            "/agenda/{id}/change/": {"action": "cancel", "reason": "Bệnh nhân chuyển viện"},
            "/i18n/setlang/": {"language": "en"},
        }
        return forms.get(route, {})


def _reads_the_report(route: str) -> bool:
    """Report reads, its PDF and addenda go to the signed consult; signing to the other."""
    reads = route.startswith("/consultations/{id}/report/") or "/notes/report/" in route
    return reads and not route.endswith("/sign/")


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def build_world(cast: Cast) -> World:
    consultation = factories.make_consultation(
        patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital, room=cast.room
    )
    request = factories.make_request(
        patient=cast.patient,
        hospital=cast.hospital,
        actor=cast.nurse,
        reason="Đau ngực khi gắng sức",
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
    consult_request_ask_info(request=request, message="Xin ảnh điện tim.", actor=cast.coordinator)
    waitlist_join(consultation=consultation, actor=cast.nurse)
    return World(
        cast=cast,
        consultation=consultation,
        signed=signed_consultation(cast),
        request=request,
        admin=administrator(),
        province_manager=programme_manager("Cao Bằng", code="SYT-CB"),
        other_province_manager=programme_manager("Lạng Sơn", code="SYT-LS"),
        attachment_id=str(attachment.external_id),
        guest_id=str(invite.external_id),
        guest_token=guest_token,
        calendar_token=feed.token,
    )


def signed_consultation(cast: Cast) -> Consultation:
    consultation = factories.make_consultation(
        patient=cast.patient,
        specialist=cast.specialist,
        hospital=cast.hospital,
        room=cast.room,
        status=Consultation.Status.COMPLETED,
    )
    note_save(
        consultation=consultation,
        section="assessment",
        content={"text": "Tăng huyết áp", "icd10": ["I10"]},
        base_revision=0,
        actor=cast.specialist,
        via=Via(),
    )
    report_sign(consultation=consultation, actor=cast.specialist, via=Via())
    return consultation


def administrator() -> User:
    hospital = factories.make_facility(
        Facility.Kind.PROVINCIAL_HOSPITAL, code="BVT-CB", name="Bệnh viện đa khoa tỉnh Cao Bằng"
    )
    return factories.make_user(Membership.Role.ADMIN, hospital, username="administrator")


def programme_manager(province: str, *, code: str) -> User:
    department = factories.make_facility(
        Facility.Kind.HEALTH_DEPARTMENT, code=code, name=f"Sở Y tế {province}", province=province
    )
    return factories.make_user(
        Membership.Role.PROGRAMME_MANAGER, department, username=f"manager-{code.lower()}"
    )
