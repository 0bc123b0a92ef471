"""REST endpoints of the room: tickets, check-in/end, guest invitations (docs/signaling.md)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consults.access import consultation_get_for_user
from consults.models import Consultation
from consults.realtime.events import consultation_payload
from consults.room import presence
from consults.room.models import GuestInvite
from consults.room.services import (
    guest_invite_create,
    guest_invite_revoke,
    guest_join,
    room_ticket_for_user,
)
from telehealth.auth import request_user
from telehealth.errors import AppError, not_found
from telehealth.serializers import StrictSerializer


class TicketSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    expires_at = serializers.DateTimeField()
    consultation = serializers.UUIDField()
    ws_path = serializers.CharField()


def _ticket_body(token: str, consult: Consultation, expires_at: object) -> dict[str, object]:
    cid = str(consult.external_id)
    return {
        "ticket": token,
        "expires_at": expires_at,
        "consultation": cid,
        "ws_path": f"/ws/consultations/{cid}/",
    }


class RoomTicketView(APIView):
    @extend_schema(request=None, responses={201: TicketSerializer})
    def post(self, request: Request, id: str) -> Response:
        consult = consultation_get_for_user(request_user(request), id)
        token, ticket = room_ticket_for_user(consultation=consult, actor=request_user(request))
        body = TicketSerializer(_ticket_body(token, consult, ticket.expires_at)).data
        return Response(body, status=status.HTTP_201_CREATED)


class EndView(APIView):
    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request, id: str) -> Response:
        user = request_user(request)
        consult = consultation_get_for_user(user, id)
        presence.room_end(consultation=consult, actor=user)
        return Response(consultation_payload(consult))


class GuestInviteRequest(StrictSerializer):
    kind = serializers.ChoiceField(choices=GuestInvite.Kind.choices)
    minutes = serializers.IntegerField(min_value=5, max_value=24 * 60, default=120)


class GuestInviteSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="external_id")
    kind = serializers.CharField()
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    display_name = serializers.CharField()


class GuestInviteCreatedSerializer(GuestInviteSerializer):
    link = serializers.URLField(help_text="The guest's signed link (until expires_at)")


class GuestInviteList(APIView):
    @extend_schema(request=GuestInviteRequest, responses={201: GuestInviteCreatedSerializer})
    def post(self, request: Request, id: str) -> Response:
        user = request_user(request)
        consult = consultation_get_for_user(user, id)
        body = GuestInviteRequest(data=request.data)
        body.is_valid(raise_exception=True)
        invite, token = guest_invite_create(consultation=consult, actor=user, **body.validated_data)
        data = dict(GuestInviteSerializer(invite).data)
        data["link"] = request.build_absolute_uri(reverse("frontend:room-guest", args=[token]))
        return Response(data, status=status.HTTP_201_CREATED)


class GuestInviteDetail(APIView):
    @extend_schema(request=None, responses={200: GuestInviteSerializer})
    def delete(self, request: Request, id: str, guest_id: str) -> Response:
        user = request_user(request)
        consult = consultation_get_for_user(user, id)
        invite = consult.guest_invites.filter(external_id__in=_uuid_or_none(guest_id)).first()
        if invite is None:
            raise not_found(_("No such invitation."))
        invite = guest_invite_revoke(invite=invite, actor=user)
        return Response(GuestInviteSerializer(invite).data)


def _uuid_or_none(value: str) -> list[str]:
    from clinics.access import parse_uuid

    try:
        return [str(parse_uuid(value))]
    except AppError:
        return []


class GuestTicketRequest(StrictSerializer):
    token = serializers.CharField(max_length=400)
    display_name = serializers.CharField(max_length=80)


class GuestTicketView(APIView):
    """A guest without an account: the link's token and a display name → a room ticket."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(request=GuestTicketRequest, responses={201: TicketSerializer})
    def post(self, request: Request) -> Response:
        body = GuestTicketRequest(data=request.data)
        body.is_valid(raise_exception=True)
        token, ticket = guest_join(**body.validated_data)
        consult = ticket.consultation
        data = TicketSerializer(_ticket_body(token, consult, ticket.expires_at)).data
        return Response(data, status=status.HTTP_201_CREATED)
