"""Booking and the lifecycle actions around it. Where booking is decided.

No two active consults of one specialist (with the buffer after each), one station room
or one patient overlap. The engine checks first and gives the nurse a precise answer; the
database has the last word: on PostgreSQL exclusion constraints (migration 0002), on
SQLite the check and the insert run in one IMMEDIATE write transaction, which holds the
database's write lock from its first statement, so no other booking can interleave.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.audit import Via, audit_record
from clinics.idempotency import write_transaction
from clinics.models import AuditEntry, Facility, Patient, Specialty, StationRoom, User
from consults.lifecycle import consultation_transition
from consults.messaging import patient as patient_messages
from consults.models import Consultation, ConsultationEvent
from consults.scheduling import engine, reminders, selectors
from consults.scheduling.models import WaitlistEntry
from consults.scheduling.waitlist import waitlist_offer_freed_slot
from telehealth import metrics
from telehealth.codes import Code
from telehealth.errors import AppError, conflict, not_found

S = Consultation.Status

MESSAGES: dict[Code, Any] = {
    Code.SLOT_TAKEN: _("This time was just taken by another booking. Please choose another slot."),
    Code.ROOM_BUSY: _(
        "Your station's telehealth room is already booked at this time. Please choose another slot."
    ),
    Code.PATIENT_BUSY: _("This patient already has a consult at this time."),
    Code.OUTSIDE_AVAILABILITY: _("The specialist does not see patients at this time."),
    Code.CLOSED_DAY: _(
        "No consults on this day: it is a public holiday or the hospital or station is closed."
    ),
    Code.TOO_LATE: _(
        "This time is too soon or already past: bookings need at least %(hours)s hours' notice."
    ),
    Code.DAILY_CAP_REACHED: _(
        "The specialist is fully booked that day. Please choose another day."
    ),
    Code.BEYOND_HORIZON: _("Bookings can be made at most %(days)s days ahead."),
    Code.NOT_ON_SLOT_BOUNDARY: _(
        "This time does not match the specialist's slots. Please pick one of the offered slots."
    ),
}
CONFLICTS = {Code.SLOT_TAKEN, Code.ROOM_BUSY, Code.PATIENT_BUSY, Code.OUTSIDE_AVAILABILITY}
CONFLICTS |= {Code.CLOSED_DAY}
CONFLICTS |= {Code.TOO_LATE, Code.DAILY_CAP_REACHED}
CONSTRAINT_CODES = {
    "consultation_no_specialist_overlap": Code.SLOT_TAKEN,
    "consultation_no_room_overlap": Code.ROOM_BUSY,
    "consultation_no_patient_overlap": Code.PATIENT_BUSY,
}


def booking_error(code: Code, cal: engine.Calendar | None = None) -> AppError:
    message = MESSAGES[code]
    if code == Code.TOO_LATE and cal is not None:
        message = message % {"hours": f"{cal.notice.total_seconds() / 3600:g}"}
    if code == Code.BEYOND_HORIZON and cal is not None:
        message = message % {"days": cal.horizon.days}
    if code in CONFLICTS:
        return conflict(code, message)
    return AppError(code, message, fields={"start": [str(message)]})


def _constraint_error(exc: IntegrityError) -> AppError:
    name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "") or ""
    if name not in CONSTRAINT_CODES:
        raise exc
    return booking_error(CONSTRAINT_CODES[name])


def _check_slot(
    *,
    specialist: User,
    patient: Patient,
    room: StationRoom | None,
    hospital_id: int | None,
    station_id: int,
    start: datetime,
    end: datetime,
    ignore: Consultation | None = None,
) -> engine.Calendar:
    """Raise the precise booking error for [start, end), or return the specialist's calendar.
    Closed days are those of the search: national holidays and the closures of the
    hospital and the station (`selectors.calendars`)."""
    if end <= start:
        raise AppError(
            Code.INVALID_RANGE,
            _("The end of a consult must be after its start."),
            fields={"end": [str(_("Must be after the start."))]},
        )
    exclude = ignore.pk if ignore is not None else None
    [cal] = selectors.calendars(
        [specialist.pk],
        start=start,
        end=end,
        hospitals={specialist.pk: hospital_id},
        station_id=station_id,
    )
    # The whole local days around the slot: the daily cap counts every consult of the day.
    taken = selectors.busy(
        [specialist.pk],
        start - selectors.MARGIN,
        end + selectors.MARGIN,
        room_id=room.pk if room else None,
        patient_id=patient.pk,
        exclude=exclude,
    )
    cal.bookings = taken.specialists.get(specialist.pk, [])
    room_busy = engine.Busy(taken.room)
    code = engine.check_booking(cal, now=timezone.now(), start=start, end=end, room_busy=room_busy)
    if code is None and engine.Busy(taken.patient).overlaps(start, end):
        code = Code.PATIENT_BUSY
    if code is not None:
        raise booking_error(code, cal)
    return cal


def _save_slot(consult: Consultation, fields: list[str] | None = None) -> None:
    """Save; a clash the exclusion constraints catch becomes its booking error. No
    savepoint: the error leaves the caller's transaction, which rolls back."""
    try:
        with transaction.atomic(savepoint=False):
            consult.save(update_fields=fields)
    except IntegrityError as exc:
        raise _constraint_error(exc) from exc


SPECIALIST_LOCK, ROOM_LOCK, PATIENT_LOCK = 1, 2, 3


def lock_key(kind: int, pk: int) -> int:
    """One bigint advisory-lock key per resource: its kind in the top byte, the row's id
    below. (The two-int form of the lock failed once ids passed 2^31.)"""
    return (kind << 56) | pk


def lock_resources(*, specialist: User, room: StationRoom | None, patient: Patient) -> None:
    """Queue bookings that share a specialist, a room or a patient (PostgreSQL).

    Without this, concurrent inserts that clash on two exclusion constraints wait on each
    other's rows in opposite order and PostgreSQL aborts them as deadlocks. Transaction
    advisory locks, always taken in the same order (specialist, room, patient), make them
    wait in line instead; each then checks against what the one before it committed.
    The constraints still have the last word. On SQLite the IMMEDIATE transaction already
    holds the database's write lock."""
    if connection.vendor != "postgresql":
        return
    room_pk = room.pk if room else None
    order = [(SPECIALIST_LOCK, specialist.pk), (ROOM_LOCK, room_pk), (PATIENT_LOCK, patient.pk)]
    locks = [lock_key(kind, pk) for kind, pk in order if pk is not None]
    # One round trip. PostgreSQL evaluates volatile functions of the select list after
    # ORDER BY, so the locks are taken in this order.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(k.key) "
            "FROM unnest(%s::bigint[]) WITH ORDINALITY AS k(key, n) ORDER BY k.n",
            [locks],
        )


def consultation_book(
    *,
    patient: Patient,
    specialist: User,
    hospital: Facility,
    specialty: Specialty,
    start: datetime,
    end: datetime,
    room: StationRoom | None,
    actor: User,
    via: Via,
    reason: str = "",
    urgency: str = Consultation.Urgency.ROUTINE,
    mode: str = Consultation.Mode.VIDEO,
) -> Consultation:
    """Book a slot. Preconditions: `actor` is staff of the patient's station; `room` (if
    any) belongs to that station; `specialist` works at `hospital` with `specialty`.
    Inside a keyed write, part of its transaction (no savepoint: `write_transaction`)."""
    with write_transaction():
        lock_resources(specialist=specialist, room=room, patient=patient)
        cal = _check_slot(
            specialist=specialist,
            patient=patient,
            room=room,
            hospital_id=hospital.pk,
            station_id=patient.station_id,
            start=start,
            end=end,
        )
        consult = Consultation(
            patient=patient,
            station=patient.station,
            station_room=room,
            specialist=specialist,
            hospital=hospital,
            specialty=specialty,
            start=start,
            end=end,
            buffer_end=end + cal.buffer if cal.buffer else None,
            status=S.BOOKED,
            urgency=urgency,
            mode=mode,
            reason=reason,
            created_by=actor,
        )
        _save_slot(consult)
        ConsultationEvent.objects.create(
            consultation=consult, actor=actor, from_status="", to_status=S.BOOKED
        )
        reminders.plan(consult, new=True)
        audit_record(
            actor=actor, action=AuditEntry.Action.CREATE, obj=consult, patient=patient, via=via
        )
        transaction.on_commit(metrics.BOOKINGS.inc)
    return consult


def consultation_assign(
    *,
    consultation: Consultation,
    specialist: User,
    start: datetime,
    end: datetime,
    actor: User,
) -> Consultation:
    """Give a requested consult its specialist and slot (triage accept) → booked.
    Refuses a specialist who does not work at the consult's hospital in its specialty."""
    with transaction.atomic():
        consult = Consultation.objects.select_for_update().get(pk=consultation.pk)
        _require_practising(specialist, consult)
        room = consult.station_room or selectors.default_room(consult.station)
        lock_resources(specialist=specialist, room=room, patient=consult.patient)
        cal = _check_slot(
            specialist=specialist,
            patient=consult.patient,
            room=room,
            hospital_id=consult.hospital_id,
            station_id=consult.station_id,
            start=start,
            end=end,
        )
        consult.specialist, consult.station_room = specialist, room
        consult.start, consult.end = start, end
        consult.buffer_end = end + cal.buffer if cal.buffer else None
        _save_slot(consult)
        consultation_transition(consultation=consult, to=S.BOOKED, actor=actor, reason="triage")
        reminders.plan(consult)
    return consult


def _require_practising(specialist: User, consult: Consultation) -> None:
    """Checked here, not by the callers, so the triage page and the API refuse alike."""
    memberships = selectors.specialist_memberships().filter(user=specialist)
    if consult.hospital_id is None:  # no hospital, no one works there
        memberships = memberships.none()
    else:
        memberships = memberships.filter(facility_id=consult.hospital_id)
    specialties = list(memberships.values_list("specialties", flat=True))
    if not specialties:
        raise not_found(_("No such specialist at this hospital."))
    if consult.specialty_id not in specialties:
        raise AppError(
            Code.SPECIALTY_MISMATCH,
            _("This specialist does not practise that specialty."),
            fields={"specialist": [str(_("Not a specialist of the requested specialty."))]},
        )


def consultation_reschedule(
    *, consultation: Consultation, start: datetime, end: datetime, actor: User, reason: str = ""
) -> Consultation:
    """Move a booked consult: the new time is taken and the old freed in one transaction;
    the event keeps the old time. Precondition: actor may manage the consult."""
    with transaction.atomic():
        consult = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if consult.status != S.BOOKED or consult.specialist is None:
            raise _invalid_transition(consult, _("rescheduled"))
        lock_resources(
            specialist=consult.specialist, room=consult.station_room, patient=consult.patient
        )
        old_start = consult.start
        cal = _check_slot(
            specialist=consult.specialist,
            patient=consult.patient,
            room=consult.station_room,
            hospital_id=consult.hospital_id,
            station_id=consult.station_id,
            start=start,
            end=end,
            ignore=consult,
        )
        consult.start, consult.end = start, end
        consult.buffer_end = end + cal.buffer if cal.buffer else None
        consult.sequence += 1
        _save_slot(consult, ["start", "end", "buffer_end", "sequence", "updated_at"])
        when = timezone.localtime(old_start).strftime("%d/%m/%Y %H:%M") if old_start else "—"
        note = f"rescheduled from {when}" + (f": {reason}" if reason else "")
        consultation_transition(consultation=consult, to=S.BOOKED, actor=actor, reason=note[:300])
        reminders.plan(consult)
        patient_messages.patient_notice(consult, kind="patient_moved")
    _after_slot_freed(consultation, old_start)
    return consult


def _invalid_transition(consult: Consultation, action: Any) -> AppError:
    return AppError(
        Code.INVALID_TRANSITION,
        _("A consultation that is “%(status)s” cannot be %(action)s.")
        % {"status": S(consult.status).label, "action": action},
        status=409,
    )


def consultation_cancel(*, consultation: Consultation, actor: User, reason: str) -> Consultation:
    """Cancel (by whom, why). Frees the slot and offers it to the waitlist."""
    with transaction.atomic():
        consultation_transition(
            consultation=consultation, to=S.CANCELLED, actor=actor, reason=reason
        )
        Consultation.objects.filter(pk=consultation.pk).update(
            cancelled_by=actor,
            cancel_reason=reason[:300],
            sequence=consultation.sequence + 1,
            updated_at=timezone.now(),
        )
        reminders.cancel(consultation)
        patient_messages.patient_notice(consultation, kind="patient_cancelled")
    consultation.refresh_from_db()
    _after_slot_freed(consultation, consultation.start)
    return consultation


def _after_slot_freed(consultation: Consultation, freed_start: datetime | None) -> None:
    if freed_start is None or consultation.specialist_id is None:
        return
    length = (
        (consultation.end - consultation.start) if consultation.end and consultation.start else None
    )
    transaction.on_commit(
        lambda: waitlist_offer_freed_slot(
            specialist_id=consultation.specialist_id,  # type: ignore[arg-type]
            start=freed_start,
            length=length or timedelta(minutes=30),
        ),
        robust=True,
    )


def waitlist_take(*, entry: WaitlistEntry, actor: User) -> Consultation:
    """Move the consult to the offered slot in one action (it may have been taken since)."""
    if entry.state != WaitlistEntry.State.OFFERED or entry.offered_start is None:
        raise AppError(
            Code.NO_OFFER, _("There is no earlier slot on offer for this consult."), status=409
        )
    assert entry.offered_end is not None
    with transaction.atomic():
        consult = consultation_reschedule(
            consultation=entry.consultation,
            start=entry.offered_start,
            end=entry.offered_end,
            actor=actor,
            reason="earlier slot from the waitlist",
        )
        entry.state = WaitlistEntry.State.TAKEN
        entry.save(update_fields=["state", "updated_at"])
    return consult
