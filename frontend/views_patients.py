"""Patient pages: the list (search, Vietnamese order), registration with its possible-
duplicate step, a patient's record (consent, revisions, booking from it) and its edit.

Pages read through the same selectors and access functions as the API, and write
through the same services.
"""

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinics.access import (
    can_edit_patient,
    patient_get_for_user,
    require_station_staff,
    station_ids_of,
)
from clinics.api import CONSENT, PATIENT
from clinics.audit import Via, audit_patients_read, audit_record
from clinics.models import AuditEntry, Consent, Facility, Patient, User
from clinics.selectors import consent_current, consent_list, patient_list, patient_revision_list
from clinics.serializers import ConsentSerializer, PatientSerializer
from clinics.services import PATIENT_FIELDS, consent_record, patient_register, patient_update
from clinics.validators import phone_national
from frontend.fields import day_error, parse_day
from frontend.pages import error_text, form_fields, form_write, page_user, validated
from telehealth.codes import Code
from telehealth.errors import AppError

PAGE_SIZE = 50


def _patient_form_data(post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {f: post.get(f, "").strip() for f in PATIENT_FIELDS}
    data["consents"] = post.getlist("consents")
    return data


def _patient_values(form: dict[str, Any]) -> dict[str, Any]:
    """The form's fields as the API takes them: the day as ISO, a day that is none refused
    with why (no real day, or not written as one)."""
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
    return data


@login_required
@require_http_methods(["GET", "POST"])
def patients(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    stations = station_ids_of(user)
    errors: dict[str, list[str]] = {}
    form_error = ""
    candidates: list[dict[str, Any]] = []
    # Nothing ticked: consent is the patient's explicit act at the desk (Decree 13/2023), never
    # a default the nurse forgets to untick.
    form: dict[str, Any] = {"consents": []}
    if request.method == "POST":
        # Settled before the form is read: anyone but station staff gets 403, as from the API,
        # not the form back with field errors about a registration they may not make.
        station = require_station_staff(user)
        form = _patient_form_data(request.POST)
        confirm_new = request.POST.get("confirm_new") == "true"
        try:
            patient = form_write(
                request,
                "patient_register",
                lambda: _register_from_page(request, user, station, form, confirm_new),
                shows=PATIENT,
            )
        except AppError as exc:
            errors = exc.fields
            form_error = str(exc.message)
            if exc.code == Code.POSSIBLE_DUPLICATE:
                candidates = [
                    c | {"born": date.fromisoformat(c["date_of_birth"])}
                    for c in exc.extra["candidates"]
                ]
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
            "candidates": candidates,
            "sexes": Patient.Sex.choices,
            "purposes": Consent.Purpose.choices,
        },
        status=(409 if candidates else 400) if form_error else 200,
    )


def _register_from_page(
    request: HttpRequest, user: User, station: Facility, form: dict[str, Any], confirm_new: bool
) -> Any:
    data = _patient_values(form)
    patient = patient_register(
        station=station,
        actor=user,
        via=Via.http(request),
        confirm_new=confirm_new,
        **validated(PatientSerializer, data),
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
            "can_book": patient.station_id in station_ids_of(user),
            "history": consent_list(patient),
            "revisions": _revision_rows(patient),
        },
    )


def _shown(field: str, value: Any) -> Any:
    """A revision's stored value as the page shows that field: dd/mm/yyyy, a phone number
    in its national form, the sex by its name."""
    if not value:
        return value
    if field == "date_of_birth":
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    if field in ("phone", "guardian_phone"):
        return phone_national(value)
    if field == "sex":
        return Patient.Sex(value).label
    return value


def _revision_rows(patient: Patient) -> list[dict[str, Any]]:
    labels = {f: getattr(Patient._meta.get_field(f), "verbose_name", f) for f in PATIENT_FIELDS}
    return [
        {
            "revision": revision,
            "changes": [
                {
                    "label": labels.get(field, field),
                    "old": _shown(field, change["old"]),
                    "new": _shown(field, change["new"]),
                }
                for field, change in revision.changes.items()
            ],
        }
        for revision in patient_revision_list(patient)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, id: str) -> HttpResponse:
    user = page_user(request)
    patient = patient_get_for_user(user, id)
    if not can_edit_patient(user, patient):
        raise AppError(
            Code.PERMISSION_DENIED, _("Only the patient's station can change it."), status=403
        )
    errors: dict[str, list[str]] = {}
    form_error = ""
    if request.method == "POST":
        form = _patient_form_data(request.POST)
        form.pop("consents")
        try:
            form_write(
                request,
                f"patient_update:{patient.external_id}",
                lambda: _update_from_page(request, user, patient, form),
                shows=PATIENT,
            )
        except AppError as exc:
            errors = exc.fields
            form_error = str(exc.message)
        else:
            messages.success(request, _("Saved the changes to %(name)s.") % {"name": patient})
            return redirect("frontend:patient", id=patient.external_id)
    else:
        audit_record(
            actor=user,
            action=AuditEntry.Action.READ,
            obj=patient,
            patient=patient,
            via=Via.http(request),
        )
        form = {f: getattr(patient, f) for f in PATIENT_FIELDS}
        form["date_of_birth"] = patient.date_of_birth.strftime("%d/%m/%Y")
    return render(
        request,
        "frontend/patient_edit.html",
        {
            "patient": patient,
            "form": form,
            "errors": errors,
            "form_error": form_error,
            "sexes": Patient.Sex.choices,
        },
        status=400 if form_error else 200,
    )


def _update_from_page(
    request: HttpRequest, user: User, patient: Patient, form: dict[str, Any]
) -> Any:
    # Every field of the form is sent: a field emptied on the page is emptied in the record.
    data = {f: "" for f in PATIENT_FIELDS if f not in ("full_name", "date_of_birth", "sex")}
    data |= _patient_values(form)
    updated = patient_update(
        patient=patient, actor=user, via=Via.http(request), **validated(PatientSerializer, data)
    )
    return PatientSerializer(updated).data
