"""Scheduling pages: book a consult (station), agenda (everyone), consult requests.

Plain forms that work without JavaScript on a weak link. Reads go through the same
selectors and access functions as the API; writes through the same services.
"""

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinics.access import (
    memberships_of,
    patient_get_for_user,
    require_station_staff,
    station_ids_of,
)
from clinics.audit import Via, audit_patients_read
from clinics.models import Facility, Membership, Patient, Specialty, User
from clinics.selectors import patient_list, specialty_list
from consults.access import (
    can_check_in,
    can_join_consultation,
    consultation_get_for_user,
    consultations_visible_to,
)
from consults.models import Consultation
from consults.room.access import JOINABLE
from consults.scheduling import selectors, services, triage
from frontend.views_waitlist import waitlist_context
from telehealth.errors import AppError, not_found

SLOTS_SHOWN = 12


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def nav(user: User) -> dict[str, bool]:
    """Which scheduling links the top bar shows this user."""
    roles = set(memberships_of(user).values_list("role", flat=True))
    R = Membership.Role
    return {
        "station": R.STATION_STAFF in roles,
        "specialist": R.SPECIALIST in roles,
        "coordinator": R.COORDINATOR in roles,
    }


def _station_patients(user: User) -> list[Patient]:
    return [p for p in patient_list(user) if p.station_id in station_ids_of(user)]


def _when(raw: str | None) -> datetime:
    parsed = parse_datetime(raw or "") if raw else None
    if parsed is None or timezone.is_naive(parsed):
        raise AppError("invalid", _("This slot link is not valid. Search again."))
    return parsed


@login_required
@require_GET
def book(request: HttpRequest) -> HttpResponse:
    """Step 1 and 2: pick the patient and the specialty, then the earliest slots."""
    user = _user(request)
    station = require_station_staff(user)
    patient_id = request.GET.get("patient", "")
    code = request.GET.get("specialty", "")
    patient = patient_get_for_user(user, patient_id) if patient_id else None
    if patient is not None and patient.station_id not in station_ids_of(user):
        raise not_found(_("No such patient."))
    slots: list[dict[str, Any]] = []
    searched = patient is not None and bool(code)
    if searched:
        room = selectors.default_room(station)
        members = selectors.specialists_for_search(specialty=code)
        now = timezone.now()
        found = selectors.free_slots_search(
            members, room=room, start=now, end=now + timedelta(weeks=8), limit=SLOTS_SHOWN
        )
        slots = [
            {
                "start": timezone.localtime(slot.start),
                "end": timezone.localtime(slot.end),
                "specialist": member.user,
                "hospital": member.facility,
            }
            for slot, member in found
        ]
    return render(
        request,
        "frontend/scheduling/book.html",
        {
            "station": station,
            "patients": _station_patients(user),
            "specialties": specialty_list(),
            "patient": patient,
            "specialty": code,
            "slots": slots,
            "searched": searched,
            "hospitals": Facility.objects.exclude(kind=Facility.Kind.COMMUNE_STATION),
            "nav": nav(user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def book_confirm(request: HttpRequest) -> HttpResponse:
    """Step 3: confirm one slot (reason, urgency, mode) and book it."""
    user = _user(request)
    require_station_staff(user)
    data = request.POST if request.method == "POST" else request.GET
    patient = patient_get_for_user(user, data.get("patient", ""))
    if patient.station_id not in station_ids_of(user):
        raise not_found(_("No such patient."))
    member = selectors.specialist_by_public_id(data.get("specialist", ""))
    if member is None:
        raise not_found(_("No such specialist."))
    start, end = _when(data.get("start")), _when(data.get("end"))
    specialty = selectors.specialty_of(member, data.get("specialty"))
    context = {
        "patient": patient,
        "member": member,
        "specialty": specialty,
        "start": timezone.localtime(start),
        "end": timezone.localtime(end),
        "urgencies": Consultation.Urgency.choices,
        "modes": Consultation.Mode.choices,
        "form": data,
        "error": "",
        "nav": nav(user),
    }
    if request.method == "POST":
        try:
            consult = services.consultation_book(
                patient=patient,
                specialist=member.user,
                hospital=member.facility,
                specialty=specialty,
                start=start,
                end=end,
                room=selectors.default_room(patient.station),
                actor=user,
                via=Via.http(request),
                reason=data.get("reason", "")[:2000],
                urgency=_choice(data.get("urgency"), Consultation.Urgency),
                mode=_choice(data.get("mode"), Consultation.Mode),
            )
        except AppError as exc:
            if _already_booked(patient, member.user, start):  # a resent form on a weak link
                return redirect(f"{_agenda_url(start)}")
            context["error"] = str(exc.message)
            return render(request, "frontend/scheduling/confirm.html", context, status=exc.status)
        messages.success(
            request,
            _("Booked: %(when)s with %(who)s.")
            % {
                "when": timezone.localtime(consult.start).strftime("%d/%m/%Y %H:%M"),
                "who": member.user.display_name,
            },
        )
        return redirect(_agenda_url(start))
    return render(request, "frontend/scheduling/confirm.html", context)


def _choice(value: str | None, choices: Any) -> str:
    return str(value) if value in choices.values else str(choices.values[0])


def _already_booked(patient: Patient, specialist: User, start: datetime) -> bool:
    return Consultation.objects.filter(
        patient=patient, specialist=specialist, start=start, status=Consultation.Status.BOOKED
    ).exists()


def _agenda_url(day: datetime) -> str:
    return f"/agenda/?day={timezone.localtime(day).date().isoformat()}"


@login_required
@require_GET
def agenda(request: HttpRequest) -> HttpResponse:
    """A day (or ?span=week) of the consults you may see, in the facility's time."""
    user = _user(request)
    day = parse_date(request.GET.get("day", "")) or timezone.localdate()
    span = 7 if request.GET.get("span") == "week" else 1
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    consults = list(
        consultations_visible_to(user)
        .filter(start__gte=start, start__lt=start + timedelta(days=span))
        .order_by("start", "id")
    )
    audit_patients_read(actor=user, patients={c.patient for c in consults}, via=Via.http(request))
    requests = list(triage.requests_sent_by(user)[:50]) if station_ids_of(user) else []
    today = timezone.localdate()
    return render(
        request,
        "frontend/scheduling/agenda.html",
        {
            "day": day,
            "span": span,
            "consultations": consults,
            "rows": [(c, row_actions(user, c, today)) for c in consults],
            "requests": requests,
            "previous": day - timedelta(days=span),
            "next": day + timedelta(days=span),
            "is_station": bool(station_ids_of(user)),
            "nav": nav(user),
            **waitlist_context(request, user),
        },
    )


def row_actions(user: User, consult: Consultation, today: date) -> dict[str, bool]:
    """What an agenda row offers this user: check the patient in (the station, on the day),
    open the call, open the notes. The pages behind each check access again."""
    S = Consultation.Status
    participant = can_join_consultation(user, consult)
    video = consult.mode == Consultation.Mode.VIDEO
    on_the_day = consult.start is not None and timezone.localdate(consult.start) == today
    check_in = video and on_the_day and consult.status == S.BOOKED and can_check_in(user, consult)
    # The specialist may open the room on the day before the patient is checked in.
    early = consult.status == S.BOOKED and not (on_the_day and not check_in)
    return {
        "check_in": check_in,
        "room": video and participant and consult.status in JOINABLE and not early,
        "notes": participant and consult.status not in {S.REQUESTED, S.CANCELLED},
    }


@login_required
@require_http_methods(["POST"])
def check_in(request: HttpRequest) -> HttpResponse:
    """The nurse checks the patient in from the agenda, then goes straight into the call."""
    user = _user(request)
    consult = consultation_get_for_user(user, request.POST.get("consultation", ""))
    if not can_check_in(user, consult):
        raise AppError("permission_denied", _("Only the station checks a patient in."), status=403)
    if consult.status != Consultation.Status.CHECKED_IN:  # a resent form on a weak link
        try:
            services.consultation_check_in(consultation=consult, actor=user)
        except AppError as exc:
            messages.error(request, str(exc.message))
            return redirect(_agenda_url(consult.start or timezone.now()))
    return redirect("frontend:room", id=str(consult.external_id))


@login_required
@require_http_methods(["POST"])
def request_file(request: HttpRequest) -> HttpResponse:
    """The station asks a hospital for a specialty instead of picking a slot."""
    user = _user(request)
    require_station_staff(user)
    patient = patient_get_for_user(user, request.POST.get("patient", ""))
    if patient.station_id not in station_ids_of(user):
        raise not_found(_("No such patient."))
    hospital_id = _uuid_or_none(request.POST.get("hospital"))
    hospitals = Facility.objects.exclude(kind=Facility.Kind.COMMUNE_STATION)
    hospital = hospitals.filter(external_id=hospital_id).first() if hospital_id else None
    specialty = Specialty.objects.filter(code=request.POST.get("specialty", "")).first()
    reason = request.POST.get("reason", "").strip()
    if hospital is None or specialty is None or not reason:
        raise AppError("invalid", _("Choose a hospital and a specialty, and give the reason."))
    triage.consult_request_file(
        patient=patient,
        specialty=specialty,
        hospital=hospital,
        reason=reason[:2000],
        urgency=_choice(request.POST.get("urgency"), Consultation.Urgency),
        preferred_windows=[],
        notes=request.POST.get("notes", "")[:4000],
        actor=user,
        via=Via.http(request),
    )
    messages.success(request, _("Request sent to %(hospital)s.") % {"hospital": hospital.name})
    return redirect("frontend:agenda")


def _uuid_or_none(value: str | None) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


@login_required
@require_http_methods(["POST"])
def request_answer(request: HttpRequest) -> HttpResponse:
    """The station answers a coordinator's question; the request goes back to the queue."""
    user = _user(request)
    req = triage.request_get_for_user(user, request.POST.get("request", ""))
    if req.consultation.station_id not in station_ids_of(user):
        raise AppError("permission_denied", _("Only the requesting station answers."), status=403)
    message = request.POST.get("message", "").strip()
    if message:
        triage.consult_request_answer(request=req, message=message[:4000], actor=user)
        messages.success(request, _("Answer sent."))
    return redirect("frontend:agenda")
