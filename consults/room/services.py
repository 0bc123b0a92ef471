"""Writes of the room outside the socket: room tickets, guest invitations, quality reports."""

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import User
from consults.access import can_invite_guests, is_joinable, room_role
from consults.models import Consultation
from consults.realtime.close import CloseCode, RoomDenied
from consults.room.access import Participant, guest_is_valid, room_participant
from consults.room.models import CallQualityReport, GuestInvite, RoomTicket
from telehealth.codes import Code
from telehealth.errors import AppError

GUEST_SALT = "consults.room.guest"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ticket_ttl() -> timedelta:
    return timedelta(seconds=settings.ROOM_TICKET_TTL_SECONDS)


def room_ticket_issue(
    *, consultation: Consultation, user: User | None = None, guest: GuestInvite | None = None
) -> tuple[str, RoomTicket]:
    """Mint a single-use ticket. Precondition: the caller checked that user/guest may join."""
    if (user is None) == (guest is None):
        raise ValueError("a ticket is for exactly one user or one guest")
    token = secrets.token_urlsafe(32)
    ticket = RoomTicket.objects.create(
        consultation=consultation,
        user=user,
        guest=guest,
        token_hash=_hash(token),
        expires_at=timezone.now() + _ticket_ttl(),
    )
    return token, ticket


def require_joinable(consultation: Consultation) -> None:
    """The REST face of the room's 4409: every ticket and invitation path refuses alike."""
    if not is_joinable(consultation):
        raise AppError(Code.NOT_JOINABLE, _("This consultation cannot be joined now."), status=409)


def room_ticket_for_user(*, consultation: Consultation, actor: User) -> tuple[str, RoomTicket]:
    if room_role(actor, consultation) is None:
        raise AppError(
            Code.NOT_A_PARTICIPANT, _("You are not a participant of this consultation."), status=403
        )
    require_joinable(consultation)
    return room_ticket_issue(consultation=consultation, user=actor)


def room_ticket_redeem(*, consultation_id: str, token: str) -> RoomTicket | None:
    """Use a ticket once. None when unknown, used, expired or for another consult.

    The UPDATE … WHERE used_at IS NULL is the single-use guarantee: two sockets presenting the
    same ticket at once cannot both win, on any number of daphne processes.
    """
    now = timezone.now()
    with transaction.atomic():
        won = RoomTicket.objects.filter(
            token_hash=_hash(token),
            used_at__isnull=True,
            expires_at__gt=now,
            consultation__external_id=consultation_id,
        ).update(used_at=now)
        if not won:
            return None
        return RoomTicket.objects.select_related("user", "guest__consultation").get(
            token_hash=_hash(token)
        )


def room_participant_resolve(*, consultation_id: str, user: Any, ticket: str | None) -> Participant:
    """Who a room socket is: the holder of a room ticket (redeemed here, once) when the
    `hello` carries one, else the session's user. Raises RoomDenied."""
    if ticket:
        redeemed = room_ticket_redeem(consultation_id=consultation_id, token=ticket)
        if redeemed is None:
            raise RoomDenied(CloseCode.UNAUTHENTICATED, Code.INVALID_TICKET)
        return room_participant(
            consultation_id=consultation_id, user=redeemed.user, guest=redeemed.guest
        )
    return room_participant(consultation_id=consultation_id, user=user)


# --- guests ----------------------------------------------------------------------------


def guest_invite_create(
    *, consultation: Consultation, kind: str, minutes: int, actor: User
) -> tuple[GuestInvite, str]:
    """Invite a second specialist or an interpreter. Returns the invite and its link token."""
    if not can_invite_guests(actor, consultation):
        raise AppError(
            Code.NOT_ALLOWED, _("Only the specialist or a coordinator can invite."), status=403
        )
    require_joinable(consultation)
    invite = GuestInvite.objects.create(
        consultation=consultation,
        kind=kind,
        invited_by=actor,
        expires_at=timezone.now() + timedelta(minutes=minutes),
    )
    return invite, guest_link_token(invite)


def guest_link_token(invite: GuestInvite) -> str:
    return signing.dumps({"g": str(invite.external_id)}, salt=GUEST_SALT, compress=True)


def guest_invite_from_token(token: str) -> GuestInvite | None:
    try:
        data: Any = signing.loads(token, salt=GUEST_SALT)
        return GuestInvite.objects.select_related("consultation").get(external_id=data["g"])
    except (signing.BadSignature, GuestInvite.DoesNotExist, KeyError, TypeError, ValueError):
        return None


def guest_invite_revoke(*, invite: GuestInvite, actor: User) -> GuestInvite:
    """Revoke a link; a guest in the room is closed with 4403 at once (on commit)."""
    if not can_invite_guests(actor, invite.consultation):
        raise AppError(
            Code.NOT_ALLOWED, _("Only the specialist or a coordinator can revoke."), status=403
        )
    from consults.realtime.send import room_kick

    with transaction.atomic():
        invite.revoked_at = timezone.now()
        invite.revoked_by = actor
        invite.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
        member = f"g:{invite.external_id}"
        consult_id = str(invite.consultation.external_id)
        transaction.on_commit(lambda: room_kick(consult_id, member), robust=True)
    return invite


def guest_join(*, token: str, display_name: str) -> tuple[str, RoomTicket]:
    """A guest names themself on the link page and gets a room ticket: refused as a room
    ticket is (403 for a dead link, 409 `not_joinable` for a consult that cannot be joined)."""
    invite = guest_invite_from_token(token)
    if invite is None or not guest_is_valid(invite):
        raise AppError(
            Code.INVITE_INVALID, _("This invitation link is not valid any more."), status=403
        )
    require_joinable(invite.consultation)
    name = display_name.strip()[:80]
    if not name:
        raise AppError(
            Code.INVALID, _("Enter your name."), fields={"display_name": [str(_("Required."))]}
        )
    invite.display_name = name
    invite.save(update_fields=["display_name", "updated_at"])
    return room_ticket_issue(consultation=invite.consultation, guest=invite)


# --- quality ---------------------------------------------------------------------------


def quality_report_record(
    *,
    consultation_pk: int,
    peer_id: str,
    role: str,
    user: User | None,
    guest: GuestInvite | None,
    data: dict[str, Any],
) -> CallQualityReport:
    return CallQualityReport.objects.create(
        consultation_id=consultation_pk,
        peer_id=peer_id,
        role=role,
        user=user,
        guest=guest,
        rtt_ms=data.get("rtt_ms"),
        loss_pct=data.get("loss_pct"),
        bitrate_kbps=data.get("bitrate_kbps"),
        audio_only_s=data.get("audio_only_s") or 0,
        video=data.get("video", True),
    )
