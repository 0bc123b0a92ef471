"""REST API of scheduling: slot search, booking, lifecycle actions. Thin views."""

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.access import (
    hospital_ids_of,
    is_admin,
    parse_uuid,
    station_ids_of,
    station_patient_get,
)
from clinics.audit import Via, audit_patients_read, audit_record
from clinics.idempotency import Shown, idempotent
from clinics.models import AuditEntry, Facility, Membership, StationRoom, User
from consults.access import (
    can_cancel,
    can_check_in,
    can_manage,
    can_record_failure,
    can_record_no_show,
    consultation_get_for_user,
    consultations_visible_to,
)
from consults.models import Consultation
from consults.scheduling import attendance, engine, selectors, services
from consults.scheduling.serializers import (
    BookingSerializer,
    CancelSerializer,
    ConsultationQuerySerializer,
    ConsultationSerializer,
    NoShowSerializer,
    RangeSerializer,
    SlotPageSerializer,
    SlotQuerySerializer,
    WaitlistSerializer,
    query_params,
)
from consults.scheduling.waitlist import waitlist_join
from telehealth.auth import request_user
from telehealth.codes import Code
from telehealth.errors import AppError, invalid, not_found
from telehealth.schema import takes_idempotency_key

CONSULTATION = Shown("consultation", consultation_get_for_user, lambda consult: consult.patient)


def forbidden(message: Any) -> AppError:
    return AppError(Code.PERMISSION_DENIED, message, status=403)


# --- slot search ---------------------------------------------------------------------


def _search_station(raw: Any, user: User) -> Facility:
    own = station_ids_of(user)
    if not raw:
        if not own:
            raise invalid({"station": [str(_("Say for which station to search."))]})
        return Facility.objects.get(pk=own[0])
    station = Facility.objects.filter(
        external_id=parse_uuid(raw), kind=Facility.Kind.COMMUNE_STATION
    ).first()
    allowed = station is not None and (
        station.pk in own or is_admin(user) or hospital_ids_of(user, Membership.Role.COORDINATOR)
    )
    if not allowed or station is None:
        raise not_found(_("No such station."))
    return station


def _station_room(station: Facility, raw: str | None) -> StationRoom | None:
    if not raw:
        return selectors.default_room(station)
    room = StationRoom.objects.filter(
        facility=station, external_id=parse_uuid(raw), is_active=True
    ).first()
    if room is None:
        raise not_found(_("No such telehealth room at this station."))
    return room


class SlotSearch(APIView):
    """Earliest free slots of a specialty (or one specialist) when the station room is free."""

    @extend_schema(
        parameters=[
            OpenApiParameter("specialty", str, description="Specialty code or id"),
            OpenApiParameter("specialist", OpenApiTypes.UUID, description="One specialist's id"),
            OpenApiParameter("station", OpenApiTypes.UUID, description="Station (default: yours)"),
            OpenApiParameter(
                "station_room", OpenApiTypes.UUID, description="Room (default: the station's)"
            ),
            OpenApiParameter(
                "from", OpenApiTypes.DATETIME, description="With offset (default: now)"
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATETIME, description="With offset (default: +8 weeks)"
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 200, "default": 20},
                description="At most this many slots",
            ),
        ],
        responses=SlotPageSerializer,
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        query = query_params(SlotQuerySerializer, request.query_params)
        specialty = query.get("specialty", "")
        specialist = str(query["specialist"]) if query.get("specialist") else ""
        if not specialty and not specialist:
            raise invalid({"specialty": [str(_("Choose a specialty or a specialist."))]})
        station = _search_station(query.get("station"), user)
        room = _station_room(station, query.get("station_room"))
        start = query.get("from") or timezone.now()
        end = query.get("to") or start + timedelta(weeks=8)
        if end <= start:
            raise invalid({"to": [str(_("Must be after “from”."))]})
        if end - start > timedelta(weeks=13):
            raise invalid({"to": [str(_("Search at most 13 weeks at a time."))]})
        limit = query.get("limit", 20)
        members = selectors.specialists_for_search(specialty=specialty, specialist=specialist)
        if specialist and not members:
            raise not_found(_("No such specialist."))
        found = selectors.free_slots_search(members, room=room, start=start, end=end, limit=limit)
        zone = ZoneInfo(station.time_zone)
        results = [_slot_json(slot, member, zone) for slot, member in found]
        return Response({"count": len(results), "next": None, "previous": None, "results": results})


def _slot_json(slot: engine.Slot, member: Membership, zone: ZoneInfo) -> dict[str, Any]:
    hospital = member.facility
    return {
        "specialist": {
            "id": str(member.user.external_id),
            "username": member.user.username,
            "full_name": member.user.display_name,
        },
        "hospital": {
            "id": str(hospital.external_id),
            "code": hospital.code,
            "name": hospital.name,
            "kind": hospital.kind,
        },
        "start": slot.start.astimezone(zone).isoformat(),
        "end": slot.end.astimezone(zone).isoformat(),
    }


# --- consultations: list, book, detail --------------------------------------------------


class ConsultationList(generics.ListAPIView[Consultation]):
    """Consults you may see (?from=&to=&status=); station staff book with POST."""

    serializer_class = ConsultationSerializer

    def get_queryset(self) -> QuerySet[Consultation]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Consultation.objects.none()
        query = query_params(ConsultationQuerySerializer, self.request.query_params)
        qs = consultations_visible_to(request_user(self.request))
        if query.get("from"):
            qs = qs.filter(end__gt=query["from"])
        if query.get("to"):
            qs = qs.filter(start__lt=query["to"])
        if query.get("status"):
            qs = qs.filter(status__in=query["status"])
        return qs.order_by("start", "id")

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATETIME, description="Ending after"),
            OpenApiParameter("to", OpenApiTypes.DATETIME, description="Starting before"),
            OpenApiParameter(
                "status",
                {"type": "array", "items": {"enum": Consultation.Status.values}, "minItems": 1},
                style="form",
                explode=False,
                description="Comma-separated statuses",
            ),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        audit_patients_read(
            actor=request_user(request), patients=[c.patient for c in page], via=Via.http(request)
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=BookingSerializer, responses={201: ConsultationSerializer})
    @takes_idempotency_key
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = request_user(request)

        def write() -> Response:
            body = BookingSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
            patient = station_patient_get(user, data["patient"])
            member = selectors.specialist_by_public_id(data["specialist"])
            if member is None:
                raise not_found(_("No such specialist."))
            specialty = selectors.specialty_of(member, data.get("specialty"))
            room = _station_room(patient.station, data.get("station_room"))
            consult = services.consultation_book(
                patient=patient,
                specialist=member.user,
                hospital=member.facility,
                specialty=specialty,
                start=data["start"],
                end=data["end"],
                room=room,
                actor=user,
                via=Via.http(request),
                reason=data.get("reason", ""),
                urgency=data["urgency"],
                mode=data["mode"],
            )
            return Response(ConsultationSerializer(consult).data, status=status.HTTP_201_CREATED)

        return idempotent(request, "consultation_book", write, shows=CONSULTATION)


class ConsultationDetail(APIView):
    @extend_schema(responses=ConsultationSerializer)
    def get(self, request: Request, id: str) -> Response:
        user = request_user(request)
        consult = consultation_get_for_user(user, id)
        audit_record(
            actor=user,
            action=AuditEntry.Action.READ,
            obj=consult,
            patient=consult.patient,
            via=Via.http(request),
        )
        return Response(ConsultationSerializer(consult).data)


# --- lifecycle actions ------------------------------------------------------------------


class _Action(APIView):
    scope = ""

    def act(self, request: Request, user: User, consult: Consultation) -> Consultation:
        raise NotImplementedError

    @takes_idempotency_key
    def post(self, request: Request, id: str) -> Response:
        user = request_user(request)
        consult = consultation_get_for_user(user, id)

        def write() -> Response:
            changed = self.act(request, user, consult)
            fresh = consultations_visible_to(user).get(pk=changed.pk)
            return Response(ConsultationSerializer(fresh).data)

        return idempotent(request, f"{self.scope}:{consult.external_id}", write, shows=CONSULTATION)


class CheckIn(_Action):
    scope = "check_in"

    @extend_schema(request=None, responses=ConsultationSerializer)
    def post(self, request: Request, id: str) -> Response:
        return super().post(request, id)

    def act(self, request: Request, user: User, consult: Consultation) -> Consultation:
        if not can_check_in(user, consult):
            raise forbidden(_("Only the station checks a patient in."))
        return attendance.consultation_check_in(consultation=consult, actor=user)


class Cancel(_Action):
    scope = "cancel"

    @extend_schema(request=CancelSerializer, responses=ConsultationSerializer)
    def post(self, request: Request, id: str) -> Response:
        return super().post(request, id)

    def act(self, request: Request, user: User, consult: Consultation) -> Consultation:
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not can_cancel(user, consult):
            raise forbidden(_("You cannot cancel this consult."))
        return services.consultation_cancel(
            consultation=consult, actor=user, reason=body.validated_data["reason"]
        )


class NoShow(_Action):
    scope = "no_show"

    @extend_schema(request=NoShowSerializer, responses=ConsultationSerializer)
    def post(self, request: Request, id: str) -> Response:
        return super().post(request, id)

    def act(self, request: Request, user: User, consult: Consultation) -> Consultation:
        body = NoShowSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not can_record_no_show(user, consult):
            raise forbidden(_("Only the station or the specialist records a no-show."))
        return attendance.consultation_mark_no_show(
            consultation=consult,
            party=body.validated_data["party"],
            reason=body.validated_data.get("reason", ""),
            actor=user,
        )


class Failed(_Action):
    scope = "failed"

    @extend_schema(request=CancelSerializer, responses=ConsultationSerializer)
    def post(self, request: Request, id: str) -> Response:
        return super().post(request, id)

    def act(self, request: Request, user: User, consult: Consultation) -> Consultation:
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not can_record_failure(user, consult):
            raise forbidden(_("Only the station, the specialist or a coordinator records this."))
        return attendance.consultation_mark_failed(
            consultation=consult, reason=body.validated_data["reason"], actor=user
        )


class Reschedule(_Action):
    scope = "reschedule"

    @extend_schema(request=RangeSerializer, responses=ConsultationSerializer)
    def post(self, request: Request, id: str) -> Response:
        return super().post(request, id)

    def act(self, request: Request, user: User, consult: Consultation) -> Consultation:
        body = RangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not can_manage(user, consult):
            raise forbidden(
                _("Only the station or the hospital's coordinators can move a consult.")
            )
        data = body.validated_data
        return services.consultation_reschedule(
            consultation=consult,
            start=data["start"],
            end=data["end"],
            actor=user,
            reason=data.get("reason", ""),
        )


class Waitlist(APIView):
    """POST: wait for an earlier slot. POST …/take/: move to the slot on offer."""

    @extend_schema(request=None, responses=WaitlistSerializer)
    def post(self, request: Request, id: str, take: bool = False) -> Response:
        user = request_user(request)
        consult = consultation_get_for_user(user, id)
        if not can_check_in(user, consult):
            raise forbidden(_("Only the station can use the waitlist."))
        if take:
            entry = getattr(consult, "waitlist", None)
            if entry is None:
                raise not_found()
            services.waitlist_take(entry=entry, actor=user)
            entry.refresh_from_db()
            return Response(WaitlistSerializer(entry).data)
        return Response(WaitlistSerializer(waitlist_join(consultation=consult, actor=user)).data)
