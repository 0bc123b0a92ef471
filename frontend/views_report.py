"""Pages of the report: the sign page (the report as it will be signed, then a confirmation)
and the printable signed report. Both render consults/notes/document.py, as the PDF does."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinics.audit import Via, audit_record
from clinics.models import AuditEntry
from consults.notes import selectors
from consults.notes.access import (
    notes_get_for_reader,
    notes_get_for_writer,
    require_signing_specialist,
)
from consults.notes.audit import Notes, audit_read
from consults.notes.document import content_digest, report_document
from consults.notes.report import content_of, report_sign
from frontend.pages import error_text, page_user
from telehealth.codes import Code
from telehealth.errors import AppError


@login_required
@require_http_methods(["GET", "POST"])
def sign_page(request: HttpRequest, id: str) -> HttpResponse:
    user = page_user(request)
    consultation = notes_get_for_writer(user, id)
    require_signing_specialist(user, consultation)
    if selectors.report_of(consultation) is not None:
        return redirect("frontend:report", consultation.external_id)
    refused: AppError | None = None
    if request.method == "POST":
        try:
            report_sign(
                consultation=consultation,
                actor=user,
                via=Via.http(request),
                digest=request.POST.get("digest", ""),
            )
        except AppError as exc:
            refused = exc
        else:
            return redirect("frontend:report", consultation.external_id)
    audit_read(actor=user, what=Notes, consultation=consultation, via=Via.http(request))
    content = content_of(consultation, user)
    with timezone.override(consultation.station.time_zone):
        doc = report_document(content)
    context = {
        "consultation": consultation,
        "doc": doc,
        "digest": content_digest(content),
        "error": error_text(refused) if refused else "",
        "error_code": refused.code if refused else "",
    }
    status = refused.status if refused else 200
    return render(request, "frontend/notes/sign.html", context, status=status)


@login_required
@require_GET
def report_page(request: HttpRequest, id: str) -> HttpResponse:
    user = page_user(request)
    consultation = notes_get_for_reader(user, id)
    report = selectors.report_of(consultation)
    if report is None:
        raise AppError(Code.REPORT_NOT_SIGNED, _("The report is not signed yet."), status=404)
    audit_record(
        actor=user,
        action=AuditEntry.Action.READ,
        obj=report,
        patient=consultation.patient,
        via=Via.http(request),
    )
    with timezone.override(consultation.station.time_zone):  # as the PDF's times
        doc = report_document(report.snapshot)
    return render(
        request,
        "frontend/notes/report.html",
        {
            "consultation": consultation,
            "report": report,
            "doc": doc,
            "addenda": selectors.addenda_of(report),
        },
    )
