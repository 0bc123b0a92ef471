"""DEMO DATA ONLY: the demo's past two months (stories.py), written by seed_demo.

The programme dashboard, the agendas and the signed reports need a past to show. Each story
goes through the project's services wherever they accept it: filing, declining, asking for
information, cancelling, no-shows, lifecycle transitions, notes, sign-off, quality reports.
Services stamp "now" and refuse a slot in the past, so two kinds of direct model writes
live here, and only here:

- giving a consult a past slot: consultation_book and consultation_assign (triage accept)
  refuse a start that has passed (`too_late`), so the slot is written like agenda.py writes
  its consults for today, and the lifecycle transition still goes through the service;
- moving what the services stamped (`created_at`, event `at`, revision `at`, `signed_at`,
  quality report `at`) back to the story's time, in the same transaction, before anyone
  can read the rows.

The audit log is left as written: it is append-only, and its entries truthfully say when
seed_demo wrote the rows. Idempotent: a story whose consult (patient, reason) exists is
skipped, so running again, even days later, adds nothing.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import OutputWrapper
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone

from clinics.audit import Via
from clinics.models import Facility, Membership, Patient, Specialty, User
from consults.demo.stories import (
    BOOKINGS,
    NO_SHOW_SPECIALIST,
    NO_SHOW_STATION,
    NOTES,
    QUALITY,
    REQUESTS,
    Booking,
    Request,
    Slot,
)
from consults.lifecycle import consultation_transition
from consults.models import Consultation, ConsultationEvent
from consults.notes.models import NoteRevision, NoteSection, Report, SectionKey
from consults.notes.report import report_sign
from consults.notes.services import note_save
from consults.room.models import CallQualityReport
from consults.room.services import quality_report_record
from consults.scheduling import selectors, triage
from consults.scheduling.attendance import consultation_mark_no_show
from consults.scheduling.models import ConsultRequest
from consults.scheduling.services import consultation_cancel

S = Consultation.Status
R = Membership.Role
HOSPITAL = "BV-BACHMAI"  # the demo's requests go to Bạch Mai, whose coordinator triages
VIA = Via.system()
LENGTH = timedelta(minutes=30)


def workday_before(today: date, n: int) -> date:
    """The n-th Monday–Saturday before `today` (the demo hours have no Sundays)."""
    day = today
    while n > 0:
        day -= timedelta(days=1)
        if day.weekday() != 6:
            n -= 1
    return day


def _when(patient: Patient, day: int, at: time) -> datetime:
    zone = ZoneInfo(patient.station.time_zone)
    return datetime.combine(workday_before(timezone.localdate(timezone=zone), day), at, zone)


def _member(username: str, role: str = R.SPECIALIST) -> Membership | None:
    return (
        Membership.objects.filter(user__username=username, role=role, is_active=True)
        .select_related("user", "facility")
        .first()
    )


def _staff(station: Facility) -> User | None:
    member = (
        Membership.objects.filter(facility=station, role=R.STATION_STAFF, is_active=True)
        .select_related("user")
        .order_by("id")
        .first()
    )
    return member.user if member else None


def _patient(name: str, reason: str) -> tuple[Patient, User] | None:
    """The story's patient and the station nurse who acts for them; None when the story
    was written already (or the demo world lacks someone)."""
    patient = Patient.objects.filter(full_name=name).select_related("station").first()
    if patient is None or Consultation.objects.filter(patient=patient, reason=reason).exists():
        return None
    staff = _staff(patient.station)
    return (patient, staff) if staff else None


# --- moving stamps back to the story's time -------------------------------------------


def _stamp_last_event(consult: Consultation, at: datetime) -> None:
    last = ConsultationEvent.objects.filter(consultation=consult).order_by("-id").values("pk")
    ConsultationEvent.objects.filter(pk__in=Subquery(last[:1])).update(at=at)


def _move(consult: Consultation, to: str, actor: User, at: datetime, reason: str = "") -> None:
    consultation_transition(consultation=consult, to=to, actor=actor, reason=reason)
    _stamp_last_event(consult, at)


def _book_past(consult: Consultation, specialist: Membership, start: datetime) -> None:
    """The one write the services refuse: a slot that has passed (see the module doc).
    The exclusion constraints still apply (PostgreSQL)."""
    consult.specialist, consult.hospital = specialist.user, specialist.facility
    consult.station_room = consult.station_room or selectors.default_room(consult.station)
    consult.start, consult.end = start, start + LENGTH
    fields = ["specialist", "hospital", "station_room", "start", "end"]
    consult.save(update_fields=None if consult.pk is None else fields)


# --- the stories ----------------------------------------------------------------------


def _booking(story: Booking) -> bool:
    found = _patient(story.patient, story.reason)
    member = _member(story.slot.specialist)
    specialty = Specialty.objects.filter(code=story.specialty).first()
    if found is None or member is None or specialty is None:
        return False
    patient, staff = found
    start = _when(patient, story.slot.day, story.slot.at)
    booked = start - timedelta(days=story.booked_days_before)
    try:
        with transaction.atomic():
            consult = Consultation(
                patient=patient,
                station=patient.station,
                specialty=specialty,
                status=S.BOOKED,
                reason=story.reason,
                created_by=staff,
            )
            _book_past(consult, member, start)
            Consultation.objects.filter(pk=consult.pk).update(created_at=booked)
            ConsultationEvent.objects.create(
                consultation=consult, actor=staff, from_status="", to_status=S.BOOKED
            )
            _stamp_last_event(consult, booked)
            _hold(consult, story.slot, staff, member.user, booked)
    except IntegrityError:  # the time is taken in this database: leave the story out
        return False
    return True


def _request(story: Request) -> bool:
    found = _patient(story.patient, story.reason)
    hospital = Facility.objects.filter(code=HOSPITAL).first()
    specialty = Specialty.objects.filter(code=story.specialty).first()
    coordinator = (
        Membership.objects.filter(facility=hospital, role=R.COORDINATOR, is_active=True)
        .select_related("user")
        .first()
    )
    if found is None or hospital is None or specialty is None or coordinator is None:
        return False
    patient, staff = found
    filed = _when(patient, story.day, story.at)
    answered = filed + story.after
    with transaction.atomic():
        req = triage.consult_request_file(
            patient=patient,
            specialty=specialty,
            hospital=hospital,
            reason=story.reason,
            urgency="urgent" if story.urgent else "routine",
            preferred_windows=[],
            notes="",
            actor=staff,
            via=VIA,
        )
        consult = req.consultation
        Consultation.objects.filter(pk=consult.pk).update(created_at=filed)
        ConsultRequest.objects.filter(pk=req.pk).update(created_at=filed)
        _stamp_last_event(consult, filed)
        if story.answer == "decline":
            triage.consult_request_decline(
                request=req, reason=story.message, actor=coordinator.user
            )
            _stamp_last_event(consult, answered)
        elif story.answer == "ask_info":
            triage.consult_request_ask_info(
                request=req, message=story.message, actor=coordinator.user
            )
        elif story.answer == "withdraw":
            consultation_cancel(consultation=consult, actor=staff, reason=story.message)
            _stamp_last_event(consult, answered)
        elif story.slot is not None:
            _accept(req, story.slot, coordinator.user, answered)
            assert consult.specialist is not None
            _hold(consult, story.slot, staff, consult.specialist, filed)
        ConsultRequest.objects.filter(pk=req.pk).update(updated_at=answered)
    return True


def _accept(req: ConsultRequest, slot: Slot, coordinator: User, at: datetime) -> None:
    """Triage accept onto a past slot (consult_request_accept refuses it: `too_late`)."""
    member = _member(slot.specialist)
    assert member is not None, slot.specialist
    consult = req.consultation
    _book_past(consult, member, _when(consult.patient, slot.day, slot.at))
    _move(consult, S.BOOKED, coordinator, at, "triage")
    req.state, req.handled_by = ConsultRequest.State.ACCEPTED, coordinator
    req.save(update_fields=["state", "handled_by"])


def _hold(
    consult: Consultation, slot: Slot, staff: User, specialist: User, booked: datetime
) -> None:
    """The consult's day: how it went, with the events at the times they would have had."""
    assert consult.start is not None
    start = consult.start
    if slot.outcome == S.CANCELLED:
        who, why = slot.cancel
        consultation_cancel(
            consultation=consult, actor=staff if who == "station" else specialist, reason=why
        )
        last = booked + (start - booked) / 2
        _stamp_last_event(consult, last)
    elif slot.outcome == NO_SHOW_STATION:
        consultation_mark_no_show(
            consultation=consult,
            party=Consultation.Party.STATION,
            actor=specialist,
            reason="Bệnh nhân không đến trạm, trạm không báo trước.",
        )
        last = start + timedelta(minutes=20)
        _stamp_last_event(consult, last)
    elif slot.outcome == NO_SHOW_SPECIALIST:
        _move(consult, S.CHECKED_IN, staff, start - timedelta(minutes=10))
        consultation_mark_no_show(
            consultation=consult,
            party=Consultation.Party.SPECIALIST,
            actor=staff,
            reason="Bác sĩ không vào phòng khám, gọi điện không liên lạc được.",
        )
        last = start + timedelta(minutes=30)
        _stamp_last_event(consult, last)
    else:
        last = _call(consult, slot, staff, specialist)
    Consultation.objects.filter(pk=consult.pk).update(updated_at=last)


def _call(consult: Consultation, slot: Slot, staff: User, specialist: User) -> datetime:
    assert consult.start is not None
    start = consult.start
    history, vitals, assessment, icd10, plan, medications, disposition = NOTES[slot.notes]
    _note(consult, SectionKey.HISTORY, {"text": history}, staff, start - timedelta(minutes=20))
    _note(consult, SectionKey.VITALS, vitals, staff, start - timedelta(minutes=12))
    _move(consult, S.CHECKED_IN, staff, start - timedelta(minutes=10))
    joined = start + timedelta(minutes=2)
    _move(consult, S.IN_PROGRESS, specialist, joined, "both sides in the room")
    if slot.outcome == S.FAILED:
        end = start + timedelta(minutes=9)
        _quality(consult, slot, staff, specialist, start, end)
        _move(consult, S.FAILED, staff, end, "Mất kết nối mạng tại trạm, gọi lại không được.")
        return end
    end = start + timedelta(minutes=25)
    _quality(consult, slot, staff, specialist, start, end)
    _note(
        consult,
        SectionKey.ASSESSMENT,
        {"text": assessment, "icd10": icd10},
        specialist,
        start + timedelta(minutes=15),
    )
    _note(
        consult,
        SectionKey.PLAN,
        {"text": plan, "medications": medications, "disposition": disposition},
        specialist,
        start + timedelta(minutes=21),
    )
    _move(consult, S.COMPLETED, specialist, end, "ended by the specialist")
    signed = start + timedelta(minutes=40)
    report = report_sign(consultation=consult, actor=specialist, via=VIA)
    snapshot = {**report.snapshot, "signed_at": signed.astimezone(UTC).isoformat()}
    Report.objects.filter(pk=report.pk).update(
        signed_at=signed, created_at=signed, updated_at=signed, snapshot=snapshot
    )
    return signed


def _note(
    consult: Consultation, key: str, content: dict[str, object], author: User, at: datetime
) -> None:
    saved = note_save(
        consultation=consult, section=key, content=content, base_revision=0, actor=author, via=VIA
    )
    NoteRevision.objects.filter(pk=saved.revision.pk).update(at=at)
    NoteSection.objects.filter(pk=saved.section.pk).update(updated_at=at)


def _quality(
    consult: Consultation,
    slot: Slot,
    staff: User,
    specialist: User,
    start: datetime,
    end: datetime,
) -> None:
    """Summaries from both sides in turn, spread over the call; RTT varies a little by day."""
    reports = QUALITY[slot.link]
    step = (end - start) / len(reports)
    for i, (rtt, loss, audio_only_s, video) in enumerate(reports):
        station_side = i % 2 == 0
        report = quality_report_record(
            consultation_pk=consult.pk,
            peer_id=f"demo-{consult.external_id.hex[:8]}-{'st' if station_side else 'sp'}",
            role="station" if station_side else "specialist",
            user=staff if station_side else specialist,
            guest=None,
            data={
                "rtt_ms": rtt + slot.day,
                "loss_pct": loss,
                "bitrate_kbps": round(900 - 30 * loss) if video else 32,
                "audio_only_s": audio_only_s,
                "video": video,
            },
        )
        CallQualityReport.objects.filter(pk=report.pk).update(at=start + step * (i + 1))


def seed_history(out: OutputWrapper) -> None:
    made = sum(_booking(story) for story in BOOKINGS)
    filed = sum(_request(story) for story in REQUESTS)
    out.write(
        f"History: {made} past consults booked and {filed} requests filed in the last two months"
    )
