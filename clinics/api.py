"""REST API v1 of the clinics app: thin views (validate → access → service → serialize)."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics import selectors
from clinics.access import (
    can_edit_patient,
    consent_get_for_user,
    patient_get_for_user,
    require_station_staff,
)
from clinics.audit import Via, audit_patients_read, audit_record
from clinics.idempotency import Shown, idempotent
from clinics.login import login_check
from clinics.models import AuditEntry, Facility, Membership, Patient, Specialty
from clinics.serializers import (
    ConsentPageSerializer,
    ConsentSerializer,
    FacilitySerializer,
    MeSerializer,
    PatientSerializer,
    SpecialistSerializer,
    SpecialtySerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
)
from clinics.services import consent_record, patient_register, patient_update
from clinics.tokens import api_token_issue, api_token_revoke, api_tokens_revoke_all
from clinics.two_factor import token_login_check
from telehealth.auth import ApiTokenAuthentication, request_user
from telehealth.codes import Code
from telehealth.errors import AppError, invalid
from telehealth.schema import takes_idempotency_key

PATIENT = Shown("patient", patient_get_for_user, lambda patient: patient)
CONSENT = Shown("consent", consent_get_for_user, lambda consent: consent.patient)


class TokenView(APIView):
    """POST: a username and password for a new API token, one per login (device), expiring
    after API_TOKEN_TTL_HOURS. DELETE: revoke the token presented (log this device out)."""

    def get_authenticators(self) -> list[BaseAuthentication]:
        # Logging in takes no credentials but the body's; logging out takes the token itself
        # (a browser session holds no token to revoke).
        return [ApiTokenAuthentication()] if self._logging_out() else []

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated()] if self._logging_out() else [AllowAny()]

    def _logging_out(self) -> bool:
        # None while drf-spectacular builds its mock request through get_authenticators().
        return getattr(self.request, "method", None) == "DELETE"

    @extend_schema(request=TokenRequestSerializer, responses=TokenResponseSerializer)
    def post(self, request: Request) -> Response:
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        credentials = body.validated_data
        user = login_check(
            request, username=credentials["username"], password=credentials["password"]
        )
        token_login_check(user, credentials.get("otp", ""))
        row, token = api_token_issue(user=user)
        return Response(TokenResponseSerializer({"token": token, "expiry": row.expiry}).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(APIView):
    """DELETE: revoke every API token of the user (log out every device), with a token or
    from a browser session."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        api_tokens_revoke_all(user=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        memberships = selectors.user_roles(request_user(request))
        return Response(
            MeSerializer(request_user(request), context={"memberships": memberships}).data
        )


class FacilityList(generics.ListAPIView[Facility]):
    serializer_class = FacilitySerializer
    filterset_fields = ["kind", "province"]

    def get_queryset(self) -> QuerySet[Facility]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no request
            return selectors.facility_list()
        kind = self.request.query_params.getlist("kind")
        if len(kind) > 1 or (kind and kind[0] not in Facility.Kind.values):
            raise invalid({"kind": [str(_("Unknown kind of facility."))]})
        return selectors.facility_list()


class FacilityDetail(APIView):
    @extend_schema(responses=FacilitySerializer)
    def get(self, request: Request, id: str) -> Response:
        return Response(FacilitySerializer(selectors.facility_get(id)).data)


class SpecialtyList(generics.ListAPIView[Specialty]):
    serializer_class = SpecialtySerializer

    def get_queryset(self) -> QuerySet[Specialty]:
        return selectors.specialty_list()


class SpecialistList(generics.ListAPIView[Membership]):
    serializer_class = SpecialistSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("specialty", str, description="Specialty code or id"),
            OpenApiParameter("facility", str, description="Hospital id"),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Membership]:
        params = self.request.query_params
        return selectors.specialist_list(
            specialty=params.get("specialty", ""), facility=params.get("facility", "")
        )


class PatientList(generics.ListCreateAPIView[Patient]):
    """Patients you may see; station staff register new ones (Idempotency-Key accepted)."""

    serializer_class = PatientSerializer

    def get_queryset(self) -> QuerySet[Patient]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Patient.objects.none()
        return selectors.patient_list(
            request_user(self.request), query=self.request.query_params.get("q", "")
        )

    @extend_schema(parameters=[OpenApiParameter("q", str, description="Name, CCCD or BHYT")])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        audit_patients_read(actor=request_user(request), patients=page, via=Via.http(request))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @takes_idempotency_key
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        station = require_station_staff(request_user(request))

        def write() -> Response:
            body = PatientSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            patient = patient_register(
                station=station,
                actor=request_user(request),
                via=Via.http(request),
                **body.validated_data,
            )
            return Response(PatientSerializer(patient).data, status=status.HTTP_201_CREATED)

        return idempotent(request, "patient_register", write, shows=PATIENT)


class PatientDetail(APIView):
    @extend_schema(responses=PatientSerializer)
    def get(self, request: Request, id: str) -> Response:
        patient = patient_get_for_user(request_user(request), id)
        audit_record(
            actor=request_user(request),
            action=AuditEntry.Action.READ,
            obj=patient,
            patient=patient,
            via=Via.http(request),
        )
        return Response(PatientSerializer(patient).data)

    @extend_schema(request=PatientSerializer, responses=PatientSerializer)
    def patch(self, request: Request, id: str) -> Response:
        patient = patient_get_for_user(request_user(request), id)
        if not can_edit_patient(request_user(request), patient):
            raise AppError(
                Code.PERMISSION_DENIED, _("Only the patient's station can change it."), status=403
            )
        body = PatientSerializer(patient, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        values = {k: v for k, v in body.validated_data.items() if k != "consents"}
        patient = patient_update(
            patient=patient, actor=request_user(request), via=Via.http(request), **values
        )
        return Response(PatientSerializer(patient).data)


class ConsentList(APIView):
    @extend_schema(responses=ConsentPageSerializer)
    def get(self, request: Request, id: str) -> Response:
        patient = patient_get_for_user(request_user(request), id)
        audit_record(
            actor=request_user(request),
            action=AuditEntry.Action.READ,
            obj=patient,
            patient=patient,
            via=Via.http(request),
        )
        consents = selectors.consent_list(patient)
        return Response(
            {
                "count": len(consents),
                "next": None,
                "previous": None,
                "results": ConsentSerializer(consents, many=True).data,
            }
        )

    @extend_schema(request=ConsentSerializer, responses={201: ConsentSerializer})
    @takes_idempotency_key
    def post(self, request: Request, id: str) -> Response:
        patient = patient_get_for_user(request_user(request), id)
        if not can_edit_patient(request_user(request), patient):
            raise AppError(
                Code.PERMISSION_DENIED, _("Only the patient's station records consent."), status=403
            )

        def write() -> Response:
            body = ConsentSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            consent = consent_record(
                patient=patient,
                actor=request_user(request),
                via=Via.http(request),
                **body.validated_data,
            )
            return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

        return idempotent(request, f"consent:{patient.external_id}", write, shows=CONSENT)
