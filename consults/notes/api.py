"""REST API of the shared notes: thin views (validate → access → service → serialize)."""

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.audit import Via, audit_record
from clinics.idempotency import Shown, idempotent
from clinics.models import AuditEntry
from consults.notes import attachments, report, selectors, serializers, services
from consults.notes.access import (
    addendum_get_for_user,
    attachment_get_for_user,
    notes_get_for_participant,
    notes_get_for_reader,
    notes_get_for_writer,
    require_signing_specialist,
)
from consults.notes.audit import Chat, Notes, audit_read
from consults.notes.models import SectionKey
from consults.notes.pdf import report_pdf
from consults.notes.sections import icd10_search, parse_section_key
from consults.realtime import events
from telehealth.auth import request_user
from telehealth.codes import Code
from telehealth.errors import AppError, not_found
from telehealth.schema import takes_idempotency_key

ATTACHMENT = Shown("attachment", attachment_get_for_user, lambda a: a.consultation.patient)
ADDENDUM = Shown("addendum", addendum_get_for_user, lambda a: a.report.consultation.patient)
SECTION = OpenApiParameter("section", str, OpenApiParameter.PATH, enum=SectionKey.values)


class NotesView(APIView):
    """All sections of a consult's notes, with their current revision."""

    @extend_schema(responses=dict)
    def get(self, request: Request, id: str) -> Response:
        user = request_user(request)
        consultation = notes_get_for_reader(user, id)
        audit_read(actor=user, what=Notes, consultation=consultation, via=Via.http(request))
        return Response(selectors.notes_state(consultation))


class NoteSectionView(APIView):
    """Write one section. `base_revision` is the revision the edit started from: a stale one
    is refused with 409 `note_conflict` and the current text. `client_edit_id` makes a
    retry safe."""

    @extend_schema(request=serializers.NoteWriteSerializer, responses=dict, parameters=[SECTION])
    def put(self, request: Request, id: str, section: str) -> Response:
        user = request_user(request)
        consultation = notes_get_for_writer(user, id)
        body = serializers.NoteWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = services.note_save(
            consultation=consultation,
            section=section,
            actor=user,
            via=Via.http(request),
            **body.validated_data,
        )
        return Response(_saved_payload(saved))


def _saved_payload(saved: services.NoteSaved) -> dict[str, Any]:
    """The section as this edit saved it. A replay answers the first save, not the section
    now: a client that took the section now for its own save would base its next edit on
    text it never saw. So a replay also shows where the section is now, to rebase on."""
    first = saved.revision
    body: dict[str, Any] = {
        "section": saved.section.key,
        "revision": first.number,
        "content": first.content,
        "updated_by": events.person(first.author),
        "updated_at": first.at.isoformat(),
        "client_edit_id": first.client_edit_id,
        "replayed": saved.replayed,
        "current_revision": saved.section.revision,
    }
    if saved.replayed:
        body["current"] = events.section_payload(saved.section)
    return body


class NoteHistoryView(APIView):
    @extend_schema(responses=serializers.RevisionSerializer(many=True), parameters=[SECTION])
    def get(self, request: Request, id: str, section: str) -> Response:
        user = request_user(request)
        consultation = notes_get_for_reader(user, id)
        key = parse_section_key(section)
        audit_read(actor=user, what=Notes, consultation=consultation, via=Via.http(request))
        revisions = selectors.note_history(consultation, key)
        return Response(serializers.RevisionSerializer(revisions, many=True).data)


class Icd10View(APIView):
    @extend_schema(parameters=[OpenApiParameter("q", str)], responses=dict)
    def get(self, request: Request) -> Response:
        return Response({"results": icd10_search(request.query_params.get("q", ""))})


class ChatView(APIView):
    @extend_schema(responses=dict)
    def get(self, request: Request, id: str) -> Response:
        user = request_user(request)
        consultation = notes_get_for_reader(user, id)
        audit_read(actor=user, what=Chat, consultation=consultation, via=Via.http(request))
        messages = selectors.chat_messages(consultation)
        return Response({"results": [events.chat_payload(m) for m in messages]})

    @extend_schema(request=serializers.ChatWriteSerializer, responses={200: dict, 201: dict})
    def post(self, request: Request, id: str) -> Response:
        user = request_user(request)
        consultation = notes_get_for_writer(user, id)
        body = serializers.ChatWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        posted = services.chat_post(
            consultation=consultation, actor=user, via=Via.http(request), **body.validated_data
        )
        code = status.HTTP_200_OK if posted.replayed else status.HTTP_201_CREATED
        answer = {**events.chat_payload(posted.message), "replayed": posted.replayed}
        return Response(answer, status=code)


class AttachmentListView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="notes_attachments_list", responses=dict)
    def get(self, request: Request, id: str) -> Response:
        user = request_user(request)
        consultation = notes_get_for_participant(user, id)
        items = list(selectors.attachments_of(consultation))
        for item in items:
            audit_record(
                actor=user,
                action=AuditEntry.Action.READ,
                obj=item,
                patient=consultation.patient,
                via=Via.http(request),
            )
        return Response({"results": [events.attachment_payload(a) for a in items]})

    # Multipart only: a urlencoded form (FormParser reads one) cannot carry the file.
    @extend_schema(
        request={"multipart/form-data": serializers.AttachmentUploadSerializer},
        responses={201: dict},
    )
    @takes_idempotency_key
    def post(self, request: Request, id: str) -> Response:
        user = request_user(request)
        consultation = notes_get_for_participant(user, id)

        def write() -> Response:
            body = serializers.AttachmentUploadSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            attachment = attachments.attachment_add(
                consultation=consultation,
                upload=body.validated_data["file"],
                caption=body.validated_data.get("caption", ""),
                actor=user,
                via=Via.http(request),
            )
            return Response(events.attachment_payload(attachment), status=status.HTTP_201_CREATED)

        return idempotent(
            request, f"notes_attachment:{consultation.external_id}", write, shows=ATTACHMENT
        )


class AttachmentDownloadView(APIView):
    """The file itself; participants only (everyone else 404), every download audited."""

    thumbnail = False

    @extend_schema(
        operation_id="notes_attachment_download",
        responses={
            (200, "image/jpeg"): bytes,
            (200, "image/png"): bytes,
            (200, "application/pdf"): bytes,
        },
    )
    def get(self, request: Request, id: str, attachment_id: str) -> HttpResponse:
        return self.download(request, id, attachment_id)

    def download(self, request: Request, id: str, attachment_id: str) -> HttpResponse:
        user = request_user(request)
        consultation = notes_get_for_participant(user, id)
        attachment = selectors.attachment_get(consultation, attachment_id)
        if attachment is None:
            raise not_found()
        data = attachments.attachment_open(
            attachment=attachment, thumbnail=self.thumbnail, actor=user, via=Via.http(request)
        )
        response = HttpResponse(
            data, content_type="image/jpeg" if self.thumbnail else attachment.content_type
        )
        disposition = "inline" if attachment.kind == "image" else "attachment"
        response["Content-Disposition"] = f'{disposition}; filename="{attachment.external_id}"'
        response["Cache-Control"] = "private, no-store"
        return response


class AttachmentThumbnailView(AttachmentDownloadView):
    thumbnail = True

    @extend_schema(
        operation_id="notes_attachment_thumbnail", responses={(200, "image/jpeg"): bytes}
    )
    def get(self, request: Request, id: str, attachment_id: str) -> HttpResponse:
        return self.download(request, id, attachment_id)


class ReportView(APIView):
    @extend_schema(responses=serializers.ReportSerializer)
    def get(self, request: Request, id: str) -> Response:
        user = request_user(request)
        consultation = notes_get_for_reader(user, id)
        signed = selectors.report_of(consultation)
        if signed is None:
            raise AppError(Code.REPORT_NOT_SIGNED, _("The report is not signed yet."), status=404)
        audit_record(
            actor=user,
            action=AuditEntry.Action.READ,
            obj=signed,
            patient=consultation.patient,
            via=Via.http(request),
        )
        return Response(serializers.ReportSerializer(signed).data)


class ReportSignView(APIView):
    @extend_schema(
        request=None,
        responses={201: serializers.ReportSerializer},
    )
    def post(self, request: Request, id: str) -> Response:
        user = request_user(request)
        consultation = notes_get_for_writer(user, id)
        require_signing_specialist(user, consultation)
        signed = report.report_sign(consultation=consultation, actor=user, via=Via.http(request))
        return Response(serializers.ReportSerializer(signed).data, status=status.HTTP_201_CREATED)


class ReportPdfView(APIView):
    @extend_schema(responses={(200, "application/pdf"): bytes})
    def get(self, request: Request, id: str) -> HttpResponse:
        user = request_user(request)
        consultation = notes_get_for_reader(user, id)
        signed = selectors.report_of(consultation)
        if signed is None:
            raise AppError(Code.REPORT_NOT_SIGNED, _("The report is not signed yet."), status=404)
        data = report_pdf(signed)
        audit_record(
            actor=user,
            action=AuditEntry.Action.EXPORT,
            obj=signed,
            patient=consultation.patient,
            via=Via.http(request),
        )
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="report-{consultation.external_id}.pdf"'
        )
        response["Cache-Control"] = "private, no-store"
        return response


class AddendumView(APIView):
    @extend_schema(
        request=serializers.AddendumWriteSerializer,
        responses={201: serializers.AddendumSerializer},
    )
    @takes_idempotency_key
    def post(self, request: Request, id: str) -> Response:
        user = request_user(request)
        consultation = notes_get_for_writer(user, id)

        def write() -> Response:
            body = serializers.AddendumWriteSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            addendum = report.addendum_add(
                consultation=consultation,
                text=body.validated_data["text"],
                actor=user,
                via=Via.http(request),
            )
            return Response(
                serializers.AddendumSerializer(addendum).data, status=status.HTTP_201_CREATED
            )

        return idempotent(
            request, f"notes_addendum:{consultation.external_id}", write, shows=ADDENDUM
        )


class AsyncSubmitView(APIView):
    """Store-and-forward: the station hands the filled notes to the specialist."""

    @extend_schema(request=None, responses={201: dict})
    def post(self, request: Request, id: str) -> Response:
        user = request_user(request)
        consultation = notes_get_for_writer(user, id)
        case = report.async_submit(consultation=consultation, actor=user, via=Via.http(request))
        return Response(
            {"submitted_at": case.submitted_at, "due_at": case.due_at},
            status=status.HTTP_201_CREATED,
        )
