"""Scheduling pages: consult requests (booking: views_booking; the agenda: views_agenda).

Plain forms that work without JavaScript on a weak link. Reads go through the same
selectors and access functions as the API; writes through the same services.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinics.access import (
    require_station_staff,
    station_ids_of,
    station_patient_get,
)
from clinics.audit import Via
from clinics.models import User
from consults.scheduling import triage
from consults.scheduling.api_requests import CONSULT_REQUEST
from consults.scheduling.serializers import (
    MessageSerializer,
    RequestCreateSerializer,
    RequestSerializer,
)
from frontend.pages import error_text, form_fields, form_write, page_user, validated
from frontend.views_booking import book_context, search_of
from telehealth.codes import Code
from telehealth.errors import AppError


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
