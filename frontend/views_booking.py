"""The station's booking pages: find a slot (a day, a specialist, a hospital, more slots),
then confirm it.

Plain GET forms that work without JavaScript on a weak link. The slots come from the same
search as the API (`selectors.free_slots_search`); the booking from the same service.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinics.access import (
    parse_uuid,
    require_station_staff,
    station_patient_get,
)
from clinics.audit import Via, audit_patients_read
from clinics.models import Facility, Membership, Patient, Specialty, User
from clinics.selectors import specialty_list, station_patient_list
from consults.models import Consultation
from consults.scheduling import selectors, services
from consults.scheduling.api import CONSULTATION
from consults.scheduling.models import SpecialistSchedule
from consults.scheduling.serializers import BookingSerializer, ConsultationSerializer
from frontend.pages import form_fields, form_write, page_user, validated
from frontend.views_agenda import agenda_url
from telehealth.codes import Code
from telehealth.errors import AppError, not_found

SLOTS_SHOWN = 12
SLOTS_MOST = 200  # the slot API's own ceiling on one search
HORIZON = timedelta(weeks=8)
DAY_FORMAT = "%d/%m/%Y"


@dataclass
class SlotQuery:
    """What the search form asked for, read and checked; `errors` per field, in the
    page's language."""

    patient: Patient | None = None
    specialty: str = ""
    day: date | None = None
    specialist: Membership | None = None
    hospital: Facility | None = None
    shown: int = SLOTS_SHOWN
    raw: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _hospitals() -> Any:
    return Facility.objects.exclude(kind=Facility.Kind.COMMUNE_STATION).order_by("name")


def _read_day(query: SlotQuery, raw: str, today: date) -> None:
    if not raw:
        return
    try:
        day = datetime.strptime(raw, DAY_FORMAT).date()
    except ValueError:
        query.refuse(
            "day",
            _("Enter the day as dd/mm/yyyy, for example %(example)s.")
            % {"example": today.strftime(DAY_FORMAT)},
        )
        return
    if day < today:
        query.refuse("day", _("This day is past: choose today or a later day."))
    elif day > today + HORIZON:
        query.refuse("day", _("Choose a day within the next 8 weeks."))
    else:
        query.day = day


def slot_query(user: User, data: QueryDict) -> SlotQuery:
    """The search form's fields. A patient of another station is a 404 (as on the API);
    everything else wrong is said next to its field."""
    names = ("patient", "specialty", "day", "specialist", "hospital")
    query = SlotQuery(raw={n: data.get(n, "").strip() for n in names})
    raw = query.raw
    # The form sends both fields; a link naming only the patient (from the patient's page)
    # preselects her and is not yet a search.
    submitted = "specialty" in data
    if raw["patient"]:
        query.patient = station_patient_get(user, raw["patient"])
    elif submitted:
        query.refuse("patient", _("Choose the patient."))
    if raw["specialty"]:
        if Specialty.objects.filter(code=raw["specialty"]).exists():
            query.specialty = raw["specialty"]
        else:
            query.refuse("specialty", _("No such specialty. Choose one from the list."))
    elif submitted:
        query.refuse("specialty", _("Choose the specialty."))
    _read_day(query, raw["day"], timezone.localdate())
    if raw["specialist"]:
        query.specialist = selectors.specialist_by_public_id(raw["specialist"])
        if query.specialist is None:
            query.refuse("specialist", _("No such specialist. Choose one from the list."))
    if raw["hospital"]:
        query.hospital = _hospitals().filter(external_id=_uuid_or_none(raw["hospital"])).first()
        if query.hospital is None:
            query.refuse("hospital", _("No such hospital. Choose one from the list."))
    try:
        asked = int(data.get("shown", SLOTS_SHOWN))
    except ValueError:
        asked = SLOTS_SHOWN
    query.shown = min(max(asked, SLOTS_SHOWN), SLOTS_MOST)
    return query


def _uuid_or_none(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def search_of(data: QueryDict) -> QueryDict:
    """The search fields of a form that carries others (the request form names its own
    `hospital`): the booking page shown again with the search as it was."""
    kept = QueryDict(mutable=True)
    for name in ("patient", "specialty"):
        kept[name] = data.get(name, "")
    return kept


def _search(query: SlotQuery, station: Facility) -> list[dict[str, Any]]:
    """The first `query.shown` free slots from the chosen day (or now) on, for eight weeks."""
    specialist = str(query.specialist.user.external_id) if query.specialist else ""
    members = selectors.specialists_for_search(specialty=query.specialty, specialist=specialist)
    if query.hospital is not None:
        members = {k: m for k, m in members.items() if m.facility_id == query.hospital.pk}
    now = timezone.now()
    start = now
    if query.day is not None:
        start = max(now, timezone.make_aware(datetime.combine(query.day, datetime.min.time())))
    found = selectors.free_slots_search(
        members,
        room=selectors.default_room(station),
        start=start,
        end=start + HORIZON,
        limit=query.shown,
    )
    return [
        {
            "start": timezone.localtime(slot.start),
            "end": timezone.localtime(slot.end),
            "specialist": member.user,
            "hospital": member.facility,
        }
        for slot, member in found
    ]


def _url(query: SlotQuery, **change: Any) -> str:
    fields = {k: v for k, v in (query.raw | change).items() if v}
    return "?" + urlencode(fields)


def _week(query: SlotQuery, today: date) -> dict[str, Any]:
    """Seven days to click, the week holding the chosen day, never before today."""
    chosen = query.day or today
    first = today + timedelta(days=7 * ((chosen - today).days // 7))
    days = [first + timedelta(days=n) for n in range(7)]
    later = first + timedelta(days=7)
    return {
        "days": [
            {"day": d, "url": _url(query, day=d.strftime(DAY_FORMAT)), "chosen": d == chosen}
            for d in days
        ],
        "previous": (
            _url(query, day=(first - timedelta(days=7)).strftime(DAY_FORMAT))
            if first > today
            else ""
        ),
        "next": _url(query, day=later.strftime(DAY_FORMAT)) if later <= today + HORIZON else "",
    }


def book_context(
    request: HttpRequest, user: User, station: Facility, data: QueryDict
) -> dict[str, Any]:
    """Step 1 and 2: pick the patient and the specialty (and a day, a specialist, a
    hospital), then the earliest slots. The patient picker lists the station's patients:
    a read of each (audited here)."""
    query = slot_query(user, data)
    patients = list(station_patient_list(user))
    audit_patients_read(actor=user, patients=patients, via=Via.http(request))
    searched = query.patient is not None and bool(query.specialty) and not query.errors
    slots = _search(query, station) if searched else []
    more = searched and len(slots) == query.shown and query.shown < SLOTS_MOST
    specialists = selectors.specialist_memberships().order_by("user__full_name", "id")
    if query.specialty:
        specialists = specialists.filter(specialties__code=query.specialty)
    today = timezone.localdate()
    return {
        "station": station,
        "patients": patients,
        "specialties": specialty_list(),
        "specialists": list({m.user_id: m for m in specialists}.values()),
        "query": query,
        "patient": query.patient,
        "specialty": query.specialty,
        "day_text": query.raw["day"] or today.strftime(DAY_FORMAT),
        "week": _week(query, today),
        "slots": slots,
        "searched": searched,
        "more_url": _url(query, shown=query.shown + SLOTS_SHOWN) if more else "",
        "notice_hours": _default_notice_hours(),
        "hospitals": _hospitals(),
        "urgencies": Consultation.Urgency.choices,
        "request_form": {},
        "request_errors": {},
    }


def _default_notice_hours() -> str:
    minutes = SpecialistSchedule._meta.get_field("min_notice_minutes").get_default()
    return f"{minutes / 60:g}"


@login_required
@require_GET
def book(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    station = require_station_staff(user)
    context = book_context(request, user, station, request.GET)
    status = 400 if context["query"].errors else 200
    return render(request, "frontend/scheduling/book.html", context, status=status)


def _when(raw: str | None) -> datetime:
    parsed = parse_datetime(raw or "") if raw else None
    if parsed is None or timezone.is_naive(parsed):
        raise AppError(Code.INVALID, _("This slot link is not valid. Search again."))
    return parsed


@login_required
@require_http_methods(["GET", "POST"])
def book_confirm(request: HttpRequest) -> HttpResponse:
    """Step 3: confirm one slot (reason, urgency, mode) and book it, as the API does. A
    slot this patient already holds (the form sent again from a page rendered anew, after
    going back) is said as such, with the way to it."""
    user = page_user(request)
    require_station_staff(user)
    data = request.POST if request.method == "POST" else request.GET
    patient = station_patient_get(user, data.get("patient", ""))
    member = selectors.specialist_by_public_id(parse_uuid(data.get("specialist", "")))
    if member is None:
        raise not_found(_("No such specialist."))
    start, end = _when(data.get("start")), _when(data.get("end"))
    existing = selectors.patient_booking_at(patient, specialist=member.user, start=start)
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
        "existing": existing,
        "existing_url": agenda_url(start) if existing else "",
    }
    if request.method == "GET":
        audit_patients_read(actor=user, patients=[patient], via=Via.http(request))
        return render(request, "frontend/scheduling/confirm.html", context)
    try:
        booked = form_write(
            request, "consultation_book", lambda: _book(request, user), shows=CONSULTATION
        )
    except AppError as exc:
        if existing is not None:
            context.update(error=_("This patient already has this booking."))
        else:
            context.update(error=str(exc.message), errors=exc.fields)
        audit_patients_read(actor=user, patients=[patient], via=Via.http(request))
        return render(request, "frontend/scheduling/confirm.html", context, status=exc.status)
    when = timezone.localtime(_when(booked["start"]))
    messages.success(
        request,
        _("Booked: %(when)s with %(who)s.")
        % {"when": when.strftime("%d/%m/%Y %H:%M"), "who": booked["specialist"]["full_name"]},
    )
    return redirect(agenda_url(when))


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
