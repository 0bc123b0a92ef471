"""A crafted month of activity whose figures are worked out by hand in the tests.

March 2026 (Vietnam time, UTC+7) at Tà Lùng station with Bạch Mai hospital:
five booked consults (completed, no-show station, no-show specialist, failed, cancelled)
and five requests (urgent: in time, declined late, never answered, withdrawn; routine).
Phúc Sen station with Chợ Rẫy: two consults either side of 1 March 00:00 local time,
both on 28 February in UTC. Both stations are in Cao Bằng; `lang_son` adds another
province's station, with consults and requests at Bạch Mai in the same months.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clinics.models import Facility, Membership, User
from consults.models import Consultation, ConsultationEvent
from consults.room.models import CallQualityReport
from consults.scheduling.models import ConsultRequest
from tests import factories
from tests.conftest import Cast
from tests.e2e.conftest import browser, daphne_server, login, screenshot

# The lead's e2e fixtures (real daphne, Chromium) for the dashboard's browser test.
__all__ = ["browser", "daphne_server", "login", "screenshot"]

VN = ZoneInfo("Asia/Ho_Chi_Minh")
S = Consultation.Status


def local(day: int, hour: int = 9, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN)


def booked(
    cast: Cast,
    *,
    start: datetime,
    created: datetime,
    status: str = S.COMPLETED,
    station2: bool = False,
    **kw: Any,
) -> Consultation:
    consult = factories.make_consultation(
        patient=cast.other_patient if station2 else cast.patient,
        specialist=cast.other_specialist if station2 else cast.specialist,
        hospital=cast.hospital2 if station2 else cast.hospital,
        start=start,
        status=status,
        **kw,
    )
    Consultation.objects.filter(pk=consult.pk).update(created_at=created)
    return consult


def requested(
    cast: Cast, *, created: datetime, urgent: bool = True, state: str = "waiting"
) -> Consultation:
    consult = Consultation.objects.create(
        patient=cast.patient,
        station=cast.station,
        hospital=cast.hospital,
        specialty=factories.make_specialty(),
        status=S.REQUESTED,
        urgency=Consultation.Urgency.URGENT if urgent else Consultation.Urgency.ROUTINE,
        created_by=cast.nurse,
    )
    req = ConsultRequest.objects.create(consultation=consult, state=state)
    Consultation.objects.filter(pk=consult.pk).update(created_at=created)
    ConsultRequest.objects.filter(pk=req.pk).update(created_at=created)
    return consult


def leave_requested(consult: Consultation, *, to: str, at: datetime, **fields: Any) -> None:
    event = ConsultationEvent.objects.create(
        consultation=consult, from_status=S.REQUESTED, to_status=to
    )
    ConsultationEvent.objects.filter(pk=event.pk).update(at=at)
    Consultation.objects.filter(pk=consult.pk).update(status=to, **fields)


def quality(consult: Consultation, *reports: tuple[float, float, int, bool]) -> None:
    CallQualityReport.objects.bulk_create(
        CallQualityReport(
            consultation=consult,
            peer_id=f"p{i}",
            role="station" if i % 2 else "specialist",
            rtt_ms=rtt,
            loss_pct=loss,
            audio_only_s=audio_only_s,
            video=video,
        )
        for i, (rtt, loss, audio_only_s, video) in enumerate(reports)
    )


@pytest.fixture
def march(cast: Cast) -> Cast:
    completed = booked(cast, start=local(10), created=local(8))  # waited 48 h
    quality(
        completed, (100, 1, 0, True), (200, 2, 0, True), (300, 3, 0, True), (400, 5, 0, True)
    )  # median RTT 250, loss 2.5, with video throughout
    booked(
        cast, start=local(11), created=local(10), status=S.NO_SHOW, no_show_party="station"
    )  # 24 h
    booked(
        cast, start=local(12), created=local(11, 21), status=S.NO_SHOW, no_show_party="specialist"
    )  # 12 h
    failed = booked(cast, start=local(13), created=local(13, 6), status=S.FAILED)  # 3 h
    quality(failed, (50, 10, 0, True), (150, 10, 20, False))  # RTT 100, loss 10, audio-only
    booked(cast, start=local(14), created=local(1), status=S.CANCELLED)  # no wait counted

    in_time = requested(cast, created=local(5, 8), state="accepted")
    leave_requested(in_time, to=S.BOOKED, at=local(5, 9))
    Consultation.objects.filter(pk=in_time.pk).update(
        start=local(2, month=4), end=local(2, 10, month=4), specialist=cast.specialist
    )
    late = requested(cast, created=local(6, 8), state="declined")
    leave_requested(late, to=S.CANCELLED, at=local(6, 11))
    requested(cast, created=local(7, 8))  # never answered
    withdrawn = requested(cast, created=local(8, 8))
    leave_requested(withdrawn, to=S.CANCELLED, at=local(8, 8, 30))
    requested(cast, created=local(9, 8), urgent=False)

    booked(cast, start=local(1, 0, 30), created=local(20, month=2), station2=True)
    booked(cast, start=local(28, 23, 30, month=2), created=local(20, month=2), station2=True)
    return cast


def manager_of(province: str, *, code: str) -> User:
    department = factories.make_facility(
        Facility.Kind.HEALTH_DEPARTMENT, code=code, name=f"Sở Y tế {province}", province=province
    )
    return factories.make_user(
        Membership.Role.PROGRAMME_MANAGER, department, username=f"manager-{code.lower()}"
    )


@pytest.fixture
def admin_membership(cast: Cast) -> User:
    hospital = factories.make_facility(
        Facility.Kind.PROVINCIAL_HOSPITAL, code="BVT-CB", name="Bệnh viện đa khoa tỉnh Cao Bằng"
    )
    return factories.make_user(Membership.Role.ADMIN, hospital, username="administrator")


@pytest.fixture
def cao_bang_manager(cast: Cast) -> User:
    return manager_of("Cao Bằng", code="SYT-CB")


@pytest.fixture
def lang_son_manager(cast: Cast) -> User:
    return manager_of("Lạng Sơn", code="SYT-LS")


@pytest.fixture
def lang_son(march: Cast) -> Facility:
    """Đồng Đăng station (Lạng Sơn): in March three consults at Bạch Mai (one completed with
    quality reports, one no-show, one failed) and two urgent requests, one answered in time;
    one consult in February."""
    station = factories.make_facility(
        code="DDG", name="Trạm Y tế thị trấn Đồng Đăng", province="Lạng Sơn", district="Cao Lộc"
    )
    patient = factories.make_patient(station, full_name="Hoàng Văn Lâm")
    room = factories.make_room(station)

    def consult(start: datetime, created: datetime, status: str, **kw: Any) -> Consultation:
        made = factories.make_consultation(
            patient=patient,
            specialist=march.specialist,
            hospital=march.hospital,
            room=room,
            start=start,
            status=status,
            **kw,
        )
        Consultation.objects.filter(pk=made.pk).update(created_at=created)
        return made

    completed = consult(local(10, 14), local(9, 14), S.COMPLETED)  # waited 24 h
    quality(completed, (900, 20, 30, False), (700, 12, 0, True))
    consult(local(11, 14), local(3), S.NO_SHOW, no_show_party="station")
    consult(local(12, 14), local(12, 8), S.FAILED)
    consult(local(20, 14, month=2), local(19, 14, month=2), S.COMPLETED)
    for day, answered in ((15, local(15, 9)), (16, None)):
        filed = Consultation.objects.create(
            patient=patient,
            station=station,
            hospital=march.hospital,
            specialty=factories.make_specialty(),
            status=S.REQUESTED,
            urgency=Consultation.Urgency.URGENT,
            created_by=march.nurse,
        )
        request = ConsultRequest.objects.create(
            consultation=filed, state="accepted" if answered else "waiting"
        )
        Consultation.objects.filter(pk=filed.pk).update(created_at=local(day, 8))
        ConsultRequest.objects.filter(pk=request.pk).update(created_at=local(day, 8))
        if answered:
            leave_requested(filed, to=S.BOOKED, at=answered)
            Consultation.objects.filter(pk=filed.pk).update(
                start=local(3, month=4), end=local(3, 10, month=4), specialist=march.specialist
            )
    return station
