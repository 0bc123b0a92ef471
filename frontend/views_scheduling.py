"""Scheduling pages: book a consult (station), consult requests (the agenda: views_agenda).

Plain forms that work without JavaScript on a weak link. Reads go through the same
selectors and access functions as the API; writes through the same services.
"""

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinics.access import (
    parse_uuid,
    require_station_staff,
    station_ids_of,
    station_patient_get,
)
from clinics.audit import Via, audit_patients_read
from clinics.models import Facility, Patient, User
from clinics.selectors import specialty_list, station_patient_list
from consults.models import Consultation
from consults.scheduling import selectors, services, triage
from consults.scheduling.api import CONSULTATION
from consults.scheduling.api_requests import CONSULT_REQUEST
from consults.scheduling.serializers import (
    BookingSerializer,
    ConsultationSerializer,
    MessageSerializer,
    RequestCreateSerializer,
    RequestSerializer,
)
from frontend.pages import error_text, form_fields, form_write, page_user, validated
from telehealth.codes import Code
from telehealth.errors import AppError, not_found

SLOTS_SHOWN = 12


def _when(raw: str | None) -> datetime:
    parsed = parse_datetime(raw or "") if raw else None
    if parsed is None or timezone.is_naive(parsed):
        raise AppError(Code.INVALID, _("This slot link is not valid. Search again."))
    return parsed


def _book_context(
    request: HttpRequest, user: User, station: Facility, patient: Patient | None, code: str
) -> dict[str, Any]:
    """Step 1 and 2: pick the patient and the specialty, then the earliest slots. The
    patient picker lists the station's patients: a read of each (audited here)."""
    patients = list(station_patient_list(user))
    audit_patients_read(actor=user, patients=patients, via=Via.http(request))
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
    return {
        "station": station,
        "patients": patients,
        "specialties": specialty_list(),
        "patient": patient,
        "specialty": code,
        "slots": slots,
        "searched": searched,
        "hospitals": Facility.objects.exclude(kind=Facility.Kind.COMMUNE_STATION),
        "urgencies": Consultation.Urgency.choices,
        "request_form": {},
        "request_errors": {},
    }


@login_required
@require_GET
def book(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    station = require_station_staff(user)
    patient_id = request.GET.get("patient", "")
    patient = station_patient_get(user, patient_id) if patient_id else None
    context = _book_context(request, user, station, patient, request.GET.get("specialty", ""))
    return render(request, "frontend/scheduling/book.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def book_confirm(request: HttpRequest) -> HttpResponse:
    """Step 3: confirm one slot (reason, urgency, mode) and book it, as the API does."""
    user = page_user(request)
    require_station_staff(user)
    data = request.POST if request.method == "POST" else request.GET
    patient = station_patient_get(user, data.get("patient", ""))
    member = selectors.specialist_by_public_id(parse_uuid(data.get("specialist", "")))
    if member is None:
        raise not_found(_("No such specialist."))
    start, end = _when(data.get("start")), _when(data.get("end"))
    context = {
        "patient": patient,
        "member": member,
        "specialty": selectors.specialty_of(member, data.get("specialty")),
        "start": timezone.localtime(start),
        "end": timezone.localtime(end),
        "urgencies": Consultation.Urgency.choices,
        "modes": Consultation.Mode.choices,
        "form": data,
        "error": "",
        "errors": {},
    }
    if request.method == "GET":
        audit_patients_read(actor=user, patients=[patient], via=Via.http(request))
        return render(request, "frontend/scheduling/confirm.html", context)
    try:
        booked = form_write(
            request, "consultation_book", lambda: _book(request, user), shows=CONSULTATION
        )
    except AppError as exc:
        context.update(error=str(exc.message), errors=exc.fields)
        audit_patients_read(actor=user, patients=[patient], via=Via.http(request))
        return render(request, "frontend/scheduling/confirm.html", context, status=exc.status)
    when = timezone.localtime(_when(booked["start"]))
    messages.success(
        request,
        _("Booked: %(when)s with %(who)s.")
        % {"when": when.strftime("%d/%m/%Y %H:%M"), "who": booked["specialist"]["full_name"]},
    )
    return redirect(_agenda_url(when))


def _book(request: HttpRequest, user: User) -> Any:
    """The booking API's write, from the confirm form's fields."""
    data = validated(BookingSerializer, form_fields(request.POST, BookingSerializer))
    patient = station_patient_get(user, data["patient"])
    member = selectors.specialist_by_public_id(data["specialist"])
    if member is None:
        raise not_found(_("No such specialist."))
    consult = services.consultation_book(
        patient=patient,
        specialist=member.user,
        hospital=member.facility,
        specialty=selectors.specialty_of(member, data.get("specialty")),
        start=data["start"],
        end=data["end"],
        room=selectors.default_room(patient.station),
        actor=user,
        via=Via.http(request),
        reason=data.get("reason", ""),
        urgency=data["urgency"],
        mode=data["mode"],
    )
    return ConsultationSerializer(consult).data


def _agenda_url(day: datetime) -> str:
    return f"/agenda/?day={timezone.localtime(day).date().isoformat()}"


@login_required
@require_http_methods(["POST"])
def request_file(request: HttpRequest) -> HttpResponse:
    """The station asks a hospital for a specialty instead of picking a slot. A refusal
    shows the booking page again with the form as it was filled in."""
    user = page_user(request)
    station = require_station_staff(user)
    patient = station_patient_get(user, request.POST.get("patient", ""))
    try:
        filed = form_write(
            request, "consult_request_file", lambda: _file(request, user), shows=CONSULT_REQUEST
        )
    except AppError as exc:
        context = _book_context(request, user, station, patient, request.POST.get("specialty", ""))
        context.update(
            request_form=request.POST, request_error=str(exc.message), request_errors=exc.fields
        )
        return render(request, "frontend/scheduling/book.html", context, status=exc.status)
    hospital = filed["consultation"]["hospital"]["name"]
    messages.success(request, _("Request sent to %(hospital)s.") % {"hospital": hospital})
    return redirect("frontend:agenda")


def _file(request: HttpRequest, user: User) -> Any:
    """The request API's write, from the booking page's request form."""
    data = validated(RequestCreateSerializer, form_fields(request.POST, RequestCreateSerializer))
    req = triage.consult_request_file_from(user, data, Via.http(request))
    return RequestSerializer(req).data


@login_required
@require_http_methods(["POST"])
def request_answer(request: HttpRequest) -> HttpResponse:
    """The station answers a coordinator's question; the request goes back to the queue."""
    user = page_user(request)
    req = triage.request_get_for_user(user, request.POST.get("request", ""))
    if req.consultation.station_id not in station_ids_of(user):
        raise AppError(
            Code.PERMISSION_DENIED, _("Only the requesting station answers."), status=403
        )

    def write() -> Any:
        said = validated(MessageSerializer, form_fields(request.POST, MessageSerializer))
        triage.consult_request_answer(request=req, message=said["message"], actor=user)
        return RequestSerializer(triage.requests_visible_to(user).get(pk=req.pk)).data

    scope = f"request_answer:{req.consultation.external_id}"
    try:
        form_write(request, scope, write, shows=CONSULT_REQUEST)
    except AppError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Answer sent."))
    return redirect("frontend:agenda")
