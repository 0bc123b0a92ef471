"""Scheduling pages: agenda (everyone), consult requests (booking: views_booking).

Plain forms that work without JavaScript on a weak link. Reads go through the same
selectors and access functions as the API; writes through the same services.
"""

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinics.access import (
    hospital_ids_of,
    require_station_staff,
    station_ids_of,
    station_patient_get,
)
from clinics.audit import Via, audit_patients_read
from clinics.models import Membership, User
from consults.access import (
    can_check_in,
    can_join_consultation,
    consultation_get_for_user,
    consultations_at_desk_of,
    consultations_visible_to,
)
from consults.models import Consultation
from consults.room.access import JOINABLE
from consults.scheduling import attendance, triage
from consults.scheduling.api import CONSULTATION
from consults.scheduling.api_requests import CONSULT_REQUEST
from consults.scheduling.serializers import (
    ConsultationSerializer,
    MessageSerializer,
    RequestCreateSerializer,
    RequestSerializer,
)
from frontend.pages import error_text, form_fields, form_write, page_user, validated
from frontend.views_booking import agenda_url, book_context, search_of
from frontend.views_waitlist import waitlist_context
from telehealth.codes import Code
from telehealth.errors import AppError


@login_required
@require_GET
def agenda(request: HttpRequest) -> HttpResponse:
    """A day (or ?span=week) of the consults you may see, in the facility's time."""
    user = page_user(request)
    day = parse_date(request.GET.get("day", "")) or timezone.localdate()
    span = 7 if request.GET.get("span") == "week" else 1
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    consults = list(
        consultations_visible_to(user)
        .filter(start__gte=start, start__lt=start + timedelta(days=span))
        .order_by("start", "id")
    )
    requests = list(triage.requests_sent_by(user)[:50]) if station_ids_of(user) else []
    shown = {c.patient for c in consults} | {r.consultation.patient for r in requests}
    audit_patients_read(actor=user, patients=shown, via=Via.http(request))
    today = timezone.localdate()
    return render(
        request,
        "frontend/scheduling/agenda.html",
        {
            "day": day,
            "span": span,
            "consultations": consults,
            "rows": agenda_rows(user, consults, today),
            "requests": requests,
            "previous": day - timedelta(days=span),
            "next": day + timedelta(days=span),
            "is_station": bool(station_ids_of(user)),
            "alerts": alerts_on(user),
            **waitlist_context(request, user),
        },
    )


def alerts_on(user: User) -> bool:
    """Whether the page carries the check-in alerts (alerts.js): a specialist's pages, where
    the /ws/notifications/ feed says that a patient of theirs is waiting."""
    return bool(hospital_ids_of(user, Membership.Role.SPECIALIST))


def agenda_rows(
    user: User, consults: list[Consultation], today: date
) -> list[tuple[Consultation, dict[str, bool]]]:
    """Each consult with what its row offers, in a fixed number of statements however many
    rows: the desk actions through their list filter, and whether the user is on the call
    once per pair of parties (the predicate reads only who the consult is between)."""
    desk = set(
        consultations_at_desk_of(user)
        .filter(pk__in=[c.pk for c in consults])
        .values_list("pk", flat=True)
    )
    joins: dict[tuple[int, int | None], bool] = {}
    rows = []
    for consult in consults:
        parties = (consult.station_id, consult.specialist_id)
        if parties not in joins:
            joins[parties] = can_join_consultation(user, consult)
        rows.append((consult, row_actions(consult, today, joins[parties], consult.pk in desk)))
    return rows


def row_actions(
    consult: Consultation, today: date, participant: bool, at_desk: bool
) -> dict[str, bool]:
    """What an agenda row offers: check the patient in (the station, on the day), open the
    call, open the notes. The pages behind each check access again."""
    S = Consultation.Status
    video = consult.mode == Consultation.Mode.VIDEO
    on_the_day = consult.start is not None and timezone.localdate(consult.start) == today
    desk_day = video and on_the_day and consult.status == S.BOOKED and at_desk
    # The specialist may open the room on the day before the patient is checked in; the
    # station opens it through the check-in, offered only inside the check-in window.
    early = consult.status == S.BOOKED and not (on_the_day and not desk_day)
    return {
        "check_in": desk_day and attendance.is_within_check_in_window(consult),
        "room": video and participant and consult.status in JOINABLE and not early,
        "notes": participant and consult.status not in {S.REQUESTED, S.CANCELLED},
    }


@login_required
@require_http_methods(["POST"])
def check_in(request: HttpRequest) -> HttpResponse:
    """The nurse checks the patient in from the agenda, then goes to the pre-join screen and on
    into the call."""
    user = page_user(request)
    consult = consultation_get_for_user(user, request.POST.get("consultation", ""))
    if not can_check_in(user, consult):
        raise AppError(
            Code.PERMISSION_DENIED, _("Only the station checks a patient in."), status=403
        )

    def write() -> Any:
        attendance.consultation_check_in(consultation=consult, actor=user)
        return ConsultationSerializer(consultations_visible_to(user).get(pk=consult.pk)).data

    try:
        form_write(request, f"check_in:{consult.external_id}", write, shows=CONSULTATION)
    except AppError as exc:
        messages.error(request, error_text(exc))
        return redirect(agenda_url(consult.start or timezone.now()))
    return redirect("frontend:room-prejoin", id=str(consult.external_id))


@login_required
@require_http_methods(["POST"])
def request_file(request: HttpRequest) -> HttpResponse:
    """The station asks a hospital for a specialty instead of picking a slot. A refusal
    shows the booking page again with the form as it was filled in."""
    user = page_user(request)
    station = require_station_staff(user)
    station_patient_get(user, request.POST.get("patient", ""))
    try:
        filed = form_write(
            request, "consult_request_file", lambda: _file(request, user), shows=CONSULT_REQUEST
        )
    except AppError as exc:
        context = book_context(request, user, station, search_of(request.POST))
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
