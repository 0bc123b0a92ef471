"""The demo's agenda: weekly hours for every demo specialist and a few consults (some
today), so `make demo` shows a living agenda. Idempotent, like seed_demo."""

from datetime import datetime, time, timedelta

from django.core.management.base import OutputWrapper
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinics.models import Membership, Patient, StationRoom, User
from consults.models import Consultation, ConsultationEvent
from consults.scheduling import reminders
from consults.scheduling.models import AvailabilityRule, SpecialistSchedule

# Monday–Saturday mornings and afternoons, 30-minute slots (Hà Nội time).
HOURS = [(time(7, 30), time(11, 30)), (time(13, 30), time(17, 0))]
WORKDAYS = range(6)

# (specialist username, station patient name, days from today, local time or None for
# "the next half hour from now", reason)
CONSULTS = [
    ("specialist", "Nông Thị Hoa", 0, None, "Đau ngực khi gắng sức, tăng huyết áp 5 năm"),
    ("specialist", "Lục Văn Sáng", 0, "+2h", "Khó thở về đêm, phù hai chân"),
    ("specialist", "Hoàng Văn Páo", 1, time(9, 0), "Hồi hộp, đánh trống ngực từng cơn"),
    ("specialist2", "Triệu Thị Mẩy", 2, time(14, 0), "Tiếng thổi tim phát hiện khi khám thai"),
]


def _hours(specialist: User) -> bool:
    if AvailabilityRule.objects.filter(specialist=specialist).exists():
        return False
    SpecialistSchedule.objects.get_or_create(specialist=specialist)
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(
            specialist=specialist, weekday=day, start_time=start, end_time=end, slot_minutes=30
        )
        for day in WORKDAYS
        for start, end in HOURS
    )
    return True


def _start(days: int, when: time | str | None) -> datetime:
    now = timezone.localtime()
    if isinstance(when, time):
        return datetime.combine(now.date() + timedelta(days=days), when, tzinfo=now.tzinfo)
    next_half = now.replace(second=0, microsecond=0) + timedelta(minutes=30 - now.minute % 30)
    return next_half + (timedelta(hours=2) if when == "+2h" else timedelta(0))


def _consult(username: str, patient_name: str, start: datetime, reason: str) -> bool:
    """Written directly, not through consultation_book: a demo consult "today" may be
    inside the minimum notice. The exclusion constraints still apply."""
    member = (
        Membership.objects.filter(user__username=username, role=Membership.Role.SPECIALIST)
        .select_related("user", "facility")
        .prefetch_related("specialties")
        .first()
    )
    patient = Patient.objects.filter(full_name=patient_name).select_related("station").first()
    if member is None or patient is None:
        return False
    if Consultation.objects.filter(patient=patient, specialist=member.user, reason=reason).exists():
        return False
    staff = Membership.objects.filter(
        facility=patient.station, role=Membership.Role.STATION_STAFF
    ).first()
    try:
        with transaction.atomic():
            consult = Consultation.objects.create(
                patient=patient,
                station=patient.station,
                station_room=StationRoom.objects.filter(facility=patient.station).first(),
                specialist=member.user,
                hospital=member.facility,
                specialty=member.specialties.all()[0],
                start=start,
                end=start + timedelta(minutes=30),
                reason=reason,
                created_by=staff.user if staff else member.user,
            )
            ConsultationEvent.objects.create(
                consultation=consult, actor=consult.created_by, from_status="", to_status="booked"
            )
            reminders.plan(consult)
    except IntegrityError:  # that time is already taken in this database
        return False
    return True


def seed_agenda(out: OutputWrapper) -> None:
    specialists = User.objects.filter(
        memberships__role=Membership.Role.SPECIALIST, memberships__is_active=True
    ).distinct()
    with_hours = sum(_hours(s) for s in specialists)
    made = sum(
        _consult(username, patient, _start(days, when), reason)
        for username, patient, days, when, reason in CONSULTS
    )
    out.write(f"Scheduling: weekly hours for {with_hours} specialists, {made} demo consults booked")
