"""REST API of consult requests: stations file them, coordinators triage them."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.audit import Via, audit_patients_read, audit_reads
from clinics.idempotency import Shown, idempotent
from clinics.models import User
from consults.access import is_station_side
from consults.scheduling import selectors, triage
from consults.scheduling.models import ConsultRequest
from consults.scheduling.serializers import (
    AcceptSerializer,
    MessageSerializer,
    RequestCreateSerializer,
    RequestQuerySerializer,
    RequestSerializer,
    query_params,
)
from telehealth.auth import request_user
from telehealth.codes import Code
from telehealth.errors import AppError, not_found
from telehealth.schema import takes_idempotency_key

# A request's public id is its consultation's, and the audit log names the consultation (as
# filing it does).
CONSULT_REQUEST = Shown(
    "consultrequest",
    lambda user, id: triage.request_get_for_user(user, id).consultation,
    lambda consult: consult.patient,
)


def _forbidden(message: Any) -> AppError:
    return AppError(Code.PERMISSION_DENIED, message, status=403)


class RequestList(generics.ListAPIView[ConsultRequest]):
    """Stations: their requests. Coordinators: the hospital's queue (urgent first)."""

    serializer_class = RequestSerializer

    @extend_schema(parameters=[OpenApiParameter("open", bool, description="Only open ones")])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None
        audit_patients_read(
            actor=request_user(request),
            patients=[r.consultation.patient for r in page],
            via=Via.http(request),
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_queryset(self) -> QuerySet[ConsultRequest]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ConsultRequest.objects.none()
        query = query_params(RequestQuerySerializer, self.request.query_params)
        open_only = bool(query.get("open"))
        return triage.request_queue(request_user(self.request), open_only=open_only)

    @extend_schema(request=RequestCreateSerializer, responses={201: RequestSerializer})
    @takes_idempotency_key
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = request_user(request)

        def write() -> Response:
            body = RequestCreateSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
            req = triage.consult_request_file_from(user, data, Via.http(request))
            return Response(RequestSerializer(req).data, status=status.HTTP_201_CREATED)

        return idempotent(request, "consult_request_file", write, shows=CONSULT_REQUEST)


class RequestDetail(APIView):
    @extend_schema(responses=RequestSerializer)
    def get(self, request: Request, id: str) -> Response:
        req = triage.request_get_for_user(request_user(request), id)
        audit_reads(
            actor=request_user(request),
            object_type=CONSULT_REQUEST.kind,
            shown=[(req.consultation.external_id, req.consultation.patient.external_id)],
            via=Via.http(request),
        )
        return Response(RequestSerializer(req).data)


class RequestAction(APIView):
    """accept / ask-info / decline (coordinators), answer (the station)."""

    action = ""

    def get_serializer_class(self) -> type[MessageSerializer | AcceptSerializer]:
        """The body this action reads (the schema's requestBody)."""
        return AcceptSerializer if self.action == "accept" else MessageSerializer

    @extend_schema(responses=RequestSerializer)
    @takes_idempotency_key
    def post(self, request: Request, id: str) -> Response:
        user = request_user(request)
        req = triage.request_get_for_user(user, id)
        if self.action == "answer":
            if not is_station_side(user, req.consultation):
                raise _forbidden(_("Only the requesting station answers."))
        elif not triage.can_triage(user, req):
            raise _forbidden(_("Only the hospital's coordinators triage requests."))
        return idempotent(
            request,
            f"request_{self.action}:{id}",
            lambda: self._do(request, user, req),
            shows=CONSULT_REQUEST,
        )

    def _do(self, request: Request, user: User, req: ConsultRequest) -> Response:
        if self.action == "accept":
            body = AcceptSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
            member = selectors.specialist_by_public_id(data["specialist"])
            if member is None:
                raise not_found(_("No such specialist at this hospital."))
            req = triage.consult_request_accept(
                request=req,
                specialist=member.user,
                start=data["start"],
                end=data["end"],
                actor=user,
            )
        else:
            said = MessageSerializer(data=request.data)
            said.is_valid(raise_exception=True)
            message = said.validated_data["message"]
            if self.action == "ask-info":
                triage.consult_request_ask_info(request=req, message=message, actor=user)
            elif self.action == "answer":
                triage.consult_request_answer(request=req, message=message, actor=user)
            else:
                triage.consult_request_decline(request=req, reason=message, actor=user)
        fresh = triage.requests_visible_to(user).get(pk=req.pk)
        return Response(RequestSerializer(fresh).data)
