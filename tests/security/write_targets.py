"""What every API write is sent by the write fuzz (tests/security/test_api_write_fuzz.py): the
role that may do it and the body such a user would send, naming the matrix world's objects,
so that the hostile mutations start from a request the server would accept (or refuse only
for the world's state: a no-show before the start is `409 too_early`).

A write the OpenAPI schema lists without a row here fails the fuzz: a new endpoint needs its
world before it ships."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from clinics.audit import Via
from clinics.models import AuditEntry, LoginBucket, LoginFailure
from consults.notes.models import NoteRevision
from consults.notes.services import note_save
from tests import factories
from tests.scheduling.conftest import give_hours
from tests.security.matrix_world import World, png_bytes

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
Body = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Target:
    role: str
    body: Body = lambda world: {}
    multipart: bool = False


def prepare(world: World) -> None:
    """Beyond the matrix world: open hours for the specialist (a booking, a reschedule and
    an accepted request can then succeed) and an assessment on the consult (signing can)."""
    give_hours(world.cast.specialist)
    note_save(
        consultation=world.consultation,
        section="assessment",
        content={"text": "Theo dõi tăng huyết áp", "icd10": ["I10"]},
        base_revision=0,
        actor=world.cast.specialist,
        via=Via(),
    )


def bookable_day() -> date:
    """Three days ahead: past the minimum notice, inside the horizon, after the world's
    consults of tomorrow."""
    return timezone.localdate() + timedelta(days=3)


def span(hour: int) -> dict[str, str]:
    start = datetime.combine(bookable_day(), time(hour), tzinfo=HCM)
    return {"start": start.isoformat(), "end": (start + timedelta(minutes=30)).isoformat()}


def booking(world: World) -> dict[str, Any]:
    return {
        "patient": str(world.cast.patient.external_id),
        "specialist": str(world.cast.specialist.external_id),
        "reason": "Đau ngực khi gắng sức",
        **span(9),
    }


def new_patient(world: World) -> dict[str, Any]:
    born = date(1984, 2, 29)
    return {
        "full_name": "Hoàng Thị Lan",
        "date_of_birth": born.isoformat(),
        "sex": "female",
        "citizen_id": factories.citizen_id_for(born, female=True),
        "phone": "0912345678",
        "consents": ["telemedicine"],
    }


def new_request(world: World) -> dict[str, Any]:
    return {
        "patient": str(world.cast.patient.external_id),
        "hospital": str(world.cast.hospital.external_id),
        "specialty": "cardiology",
        "reason": "Khó thở khi gắng sức",
        "urgency": "routine",
        "preferred_windows": [span(8), span(14)],
        "notes": "Đã đo điện tim tại trạm",
    }


def accept(world: World) -> dict[str, Any]:
    return {"specialist": str(world.cast.specialist.external_id), **span(10)}


def attachment(world: World) -> dict[str, Any]:
    return {"file": ("ecg.png", png_bytes(), "image/png"), "caption": "Điện tim"}


def message(world: World) -> dict[str, Any]:
    return {"message": "Ảnh điện tim đã gửi kèm."}


# The refusals that write, each by its rule: a wrong password is counted (its failure row
# and its buckets: docs/architecture.md, "Login throttling"); a stale note edit records the
# refused attempt and audits the current text shown to its author (docs/notes.md).
REFUSALS_THAT_WRITE = {
    "invalid_credentials": {LoginFailure, LoginBucket},
    "note_conflict": {NoteRevision, AuditEntry},
}

TARGETS: dict[str, Target] = {
    "POST /api/v1/auth/token/": Target(
        "anonymous",
        lambda w: {"username": w.cast.nurse.username, "password": factories.PASSWORD},
    ),
    "DELETE /api/v1/auth/token/": Target("station"),
    "DELETE /api/v1/auth/tokens/": Target("station"),
    "POST /api/v1/calendar/": Target("station"),
    "POST /api/v1/consultations/": Target("station", booking),
    "POST /api/v1/consultations/{id}/cancel/": Target(
        "station", lambda w: {"reason": "Bệnh nhân chuyển viện"}
    ),
    "POST /api/v1/consultations/{id}/check-in/": Target("station"),
    "POST /api/v1/consultations/{id}/failed/": Target(
        "station", lambda w: {"reason": "Mất kết nối tại trạm"}
    ),
    "POST /api/v1/consultations/{id}/guests/": Target(
        "specialist", lambda w: {"kind": "interpreter", "minutes": 60}
    ),
    "DELETE /api/v1/consultations/{id}/guests/{guest_id}/": Target("specialist"),
    "POST /api/v1/consultations/{id}/no-show/": Target(
        "station", lambda w: {"party": "specialist", "reason": "Không vào phòng"}
    ),
    "PUT /api/v1/consultations/{id}/notes/{section}/": Target(
        "station",
        lambda w: {
            "content": {"text": "Đau ngực 2 tuần"},
            "base_revision": 0,
            "client_edit_id": "edit-1",
        },
    ),
    "POST /api/v1/consultations/{id}/notes/attachments/": Target(
        "station", attachment, multipart=True
    ),
    "POST /api/v1/consultations/{id}/notes/chat/": Target(
        "station", lambda w: {"text": "Chào bác sĩ", "client_msg_id": "msg-1"}
    ),
    "POST /api/v1/consultations/{id}/notes/report/addenda/": Target(
        "specialist", lambda w: {"text": "Bổ sung: điện tim bình thường."}
    ),
    "POST /api/v1/consultations/{id}/notes/report/sign/": Target("specialist"),
    "POST /api/v1/consultations/{id}/notes/submit/": Target("station"),
    "POST /api/v1/consultations/{id}/reschedule/": Target(
        "station", lambda w: {**span(11), "reason": "Bác sĩ bận"}
    ),
    "POST /api/v1/consultations/{id}/room-ticket/": Target("station"),
    "POST /api/v1/consultations/{id}/room/end/": Target("specialist"),
    "POST /api/v1/consultations/{id}/waitlist/": Target("station"),
    "POST /api/v1/consultations/{id}/waitlist/take/": Target("station"),
    "POST /api/v1/patients/": Target("station", new_patient),
    "PATCH /api/v1/patients/{id}/": Target("station", lambda w: {"full_name": "Nông Thị Hoà"}),
    "POST /api/v1/patients/{id}/consents/": Target(
        "station", lambda w: {"purpose": "recording", "status": "given", "note": ""}
    ),
    "POST /api/v1/requests/": Target("station", new_request),
    "POST /api/v1/requests/{id}/accept/": Target("coordinator", accept),
    "POST /api/v1/requests/{id}/answer/": Target("station", message),
    "POST /api/v1/requests/{id}/ask-info/": Target("coordinator", message),
    "POST /api/v1/requests/{id}/decline/": Target("coordinator", message),
    "POST /api/v1/room/guest-ticket/": Target(
        "anonymous", lambda w: {"token": w.guest_token, "display_name": "Phiên dịch viên"}
    ),
}
