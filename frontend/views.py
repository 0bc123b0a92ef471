"""Foundation pages: login/logout, home by role, patients (list, register, detail).

Pages read through the same selectors and access functions as the API, and write
through the same services.
"""

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinics.access import (
    can_edit_patient,
    patient_get_for_user,
    require_station_staff,
    station_ids_of,
)
from clinics.api import CONSENT, PATIENT
from clinics.audit import Via, audit_patients_read, audit_record
from clinics.login import login_check
from clinics.models import AuditEntry, Consent, Facility, Patient, User
from clinics.selectors import consent_current, consent_list, patient_list, user_roles
from clinics.serializers import ConsentSerializer, PatientSerializer
from clinics.services import PATIENT_FIELDS, consent_record, patient_register
from consults.access import consultations_visible_to
from consults.dashboard.access import can_see_dashboard
from frontend.fields import day_error, parse_day
from frontend.pages import error_text, form_fields, form_write, page_user, validated
from frontend.views_account import login_continue
from frontend.views_scheduling import agenda_rows, alerts_on
from telehealth.codes import Code
from telehealth.errors import AppError

PAGE_SIZE = 50


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    error = ""
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        password = request.POST.get("password", "")
        try:
            user = login_check(request, username=username, password=password)
        except AppError as exc:
            error = str(exc.message)
        else:
            target = request.POST.get("next") or request.GET.get("next") or "/"
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
                target = "/"
            return login_continue(request, user, target)
    status = 400 if error else 200
    return render(
        request,
        "frontend/login.html",
        {"error": error, "username": username, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("frontend:login")


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    if station_ids_of(user):
        return redirect("frontend:patients")
    consults = list(
        consultations_visible_to(user)
        .filter(start__gte=timezone.now() - timedelta(hours=12))
        .order_by("start")[:50]
    )
    audit_patients_read(actor=user, patients={c.patient for c in consults}, via=Via.http(request))
    return render(
        request,
        "frontend/home.html",
        {
            "roles": user_roles(user),
            "consultations": consults,
            "rows": agenda_rows(user, consults, timezone.localdate()),
            "alerts": alerts_on(user),
            "show_dashboard": can_see_dashboard(user),
        },
    )


def _patient_form_data(post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {f: post.get(f, "").strip() for f in PATIENT_FIELDS}
    data["consents"] = post.getlist("consents")
    return data


@login_required
@require_http_methods(["GET", "POST"])
def patients(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    stations = station_ids_of(user)
    errors: dict[str, list[str]] = {}
    form_error = ""
    # Nothing ticked: consent is the patient's explicit act at the desk (Decree 13/2023), never
    # a default the nurse forgets to untick.
    form: dict[str, Any] = {"consents": []}
    if request.method == "POST":
        # Settled before the form is read: anyone but station staff gets 403, as from the API,
        # not the form back with field errors about a registration they may not make.
        station = require_station_staff(user)
        form = _patient_form_data(request.POST)
        try:
            patient = form_write(
                request,
                "patient_register",
                lambda: _register_from_page(request, user, station, form),
                shows=PATIENT,
            )
        except AppError as exc:
            errors = exc.fields
            form_error = str(exc.message)
        else:
            messages.success(request, _("Registered %(name)s.") % {"name": patient["full_name"]})
            return redirect("frontend:patient", id=patient["id"])
    query = request.GET.get("q", "")
    shown = list(patient_list(user, query=query)[:PAGE_SIZE])
    audit_patients_read(actor=user, patients=shown, via=Via.http(request))
    return render(
        request,
        "frontend/patients.html",
        {
            "patients": shown,
            "query": query,
            "can_register": bool(stations),
            "form": form,
            "errors": errors,
            "form_error": form_error,
            "sexes": Patient.Sex.choices,
            "purposes": Consent.Purpose.choices,
        },
        status=400 if form_error else 200,
    )


def _register_from_page(
    request: HttpRequest, user: User, station: Facility, form: dict[str, Any]
) -> Any:
    data = {k: v for k, v in form.items() if v != ""}
    if "date_of_birth" in data:
        born = parse_day(data["date_of_birth"])
        if born is None:
            raise AppError(
                Code.INVALID,
                _("Some fields are not valid."),
                fields={"date_of_birth": [day_error(data["date_of_birth"])]},
            )
        data["date_of_birth"] = born.isoformat()
    patient = patient_register(
        station=station, actor=user, via=Via.http(request), **validated(PatientSerializer, data)
    )
    return PatientSerializer(patient).data


@login_required
@require_http_methods(["GET", "POST"])
def patient_detail(request: HttpRequest, id: str) -> HttpResponse:
    user = page_user(request)
    patient = patient_get_for_user(user, id)
    editable = can_edit_patient(user, patient)
    if request.method == "POST":
        if not editable:
            raise AppError(
                Code.PERMISSION_DENIED, _("Only the patient's station records consent."), status=403
            )

        def write() -> Any:
            data = validated(ConsentSerializer, form_fields(request.POST, ConsentSerializer))
            consent = consent_record(patient=patient, actor=user, via=Via.http(request), **data)
            return ConsentSerializer(consent).data

        try:
            form_write(request, f"consent:{patient.external_id}", write, shows=CONSENT)
        except AppError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("Consent recorded."))
        return redirect("frontend:patient", id=patient.external_id)
    audit_record(
        actor=user,
        action=AuditEntry.Action.READ,
        obj=patient,
        patient=patient,
        via=Via.http(request),
    )
    current = consent_current(patient)
    consents = [
        {"purpose": value, "label": label, "status": current.get(value, "")}
        for value, label in Consent.Purpose.choices
    ]
    return render(
        request,
        "frontend/patient_detail.html",
        {
            "patient": patient,
            "consents": consents,
            "editable": editable,
            "history": consent_list(patient),
        },
    )
