"""Who is in a consult's room: staff of its station, its specialist, its invited guests.

The rules are consults.access's (`room_role`, `is_joinable` and their bulk forms), and the
guests' own (`guest_is_valid`, below: an invitation is the room's); this module applies them
to a connection. `room_participant(...)` resolves a user or
a guest invitation into a `Participant` or raises `RoomDenied` with the close code of
docs/signaling.md (4404, 4403, 4409); `denied_among` re-checks many live connections at once.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from clinics.access import parse_uuid
from clinics.models import User
from consults.access import JOINABLE as JOINABLE  # the room's vocabulary, defined there
from consults.access import (
    ConsultFacts,
    Facts,
    is_joinable,
    room_role,
    room_roles_among,
)
from consults.models import Consultation
from consults.realtime.close import CloseCode, RoomDenied
from consults.room.models import GuestInvite
from telehealth.codes import Code
from telehealth.errors import AppError


@dataclass(frozen=True)
class Participant:
    consultation: Consultation
    member: str  # "u:<uuid>" / "g:<uuid>": one connection per member
    role: str  # station / specialist / guest
    name: str
    user: User | None = None
    guest: GuestInvite | None = None


def consultation_by_id(consultation_id: str) -> Consultation:
    """The room's consult whoever asks. Room ids are random UUIDs handed out in links, so
    telling "not yours" (4403) from "no such consult" (4404) confirms nothing guessable, and
    it tells a station nurse logged in on the wrong account what is wrong (docs/signaling.md).
    """
    try:
        return Consultation.objects.select_related("patient", "station", "specialist").get(
            external_id=parse_uuid(consultation_id)
        )
    except (Consultation.DoesNotExist, AppError) as exc:
        raise RoomDenied(CloseCode.NOT_FOUND, Code.NOT_FOUND) from exc


def room_participant(
    *, consultation_id: str, user: User | None = None, guest: GuestInvite | None = None
) -> Participant:
    """Resolve who joins; raise RoomDenied (4404 unseen consult, 4403 not on it, 4409 status)."""
    if guest is not None:
        consult = guest.consultation
        if str(consult.external_id) != str(consultation_id):
            raise RoomDenied(CloseCode.NOT_FOUND, Code.NOT_FOUND)
        if not guest_is_valid(guest):
            raise RoomDenied(CloseCode.FORBIDDEN, Code.INVITE_REVOKED)
        participant = Participant(
            consult, f"g:{guest.external_id}", "guest", guest.display_name or "Guest", guest=guest
        )
    elif user is not None and user.is_authenticated:
        consult = consultation_by_id(consultation_id)
        role = room_role(user, consult)
        if role is None:
            raise RoomDenied(CloseCode.FORBIDDEN, Code.NOT_A_PARTICIPANT)
        participant = Participant(consult, f"u:{user.external_id}", role, user.display_name, user)
    else:
        raise RoomDenied(CloseCode.UNAUTHENTICATED, Code.NOT_AUTHENTICATED)
    if not is_joinable(participant.consultation):
        raise RoomDenied(CloseCode.NOT_JOINABLE, Code.NOT_JOINABLE)
    return participant


def denied_among(items: list[tuple[str, Participant]]) -> dict[str, RoomDenied]:
    """Re-check many live connections in four queries: each is still in the room, its consult
    still joinable, and its participant still joins in the role it joined in
    (room_roles_among) or holds a valid invitation (valid_guests_among). Returns the denied
    ones by peer id."""
    from consults.room.models import RoomPeer

    rows = RoomPeer.objects.filter(peer_id__in=[peer for peer, _ in items]).values_list(
        "peer_id",
        "consultation_id",
        "consultation__station_id",
        "consultation__specialist_id",
        "consultation__hospital_id",
        "consultation__status",
    )
    present = {
        peer: (consult, ConsultFacts(station, specialist, hospital, status))
        for peer, consult, station, specialist, hospital, status in rows
    }
    facts: dict[int, Facts] = dict(present.values())
    roles = room_roles_among(
        ((p.user.pk, p.consultation.pk) for _, p in items if p.user is not None), facts
    )
    guests = valid_guests_among(p.guest.pk for _, p in items if p.guest is not None)
    denied: dict[str, RoomDenied] = {}
    for peer, p in items:
        if peer not in present:
            denied[peer] = RoomDenied(CloseCode.NOT_JOINABLE, Code.REPLACED)
        elif not is_joinable(present[peer][1]):
            denied[peer] = RoomDenied(CloseCode.NOT_JOINABLE, Code.NOT_JOINABLE)
        elif p.user is not None:
            if roles.get((p.user.pk, p.consultation.pk)) != p.role:
                denied[peer] = RoomDenied(CloseCode.FORBIDDEN, Code.ACCESS_REVOKED)
        elif p.guest is None or p.guest.pk not in guests:
            denied[peer] = RoomDenied(CloseCode.FORBIDDEN, Code.ACCESS_REVOKED)
    return denied


# --- guests: an invitation is a room resource, so its rule lives with the room ---------


def _guest_valid(revoked_at: datetime | None, expires_at: datetime, now: datetime) -> bool:
    return revoked_at is None and expires_at > now


def guest_is_valid(guest: GuestInvite) -> bool:
    """An invitation lets its guest in until it is revoked or expires."""
    return _guest_valid(guest.revoked_at, guest.expires_at, timezone.now())


def valid_guests_among(guest_ids: Iterable[int]) -> set[int]:
    """guest_is_valid for many invitations (by primary key) in one query."""
    now = timezone.now()
    rows = GuestInvite.objects.filter(pk__in=list(guest_ids)).values_list(
        "pk", "revoked_at", "expires_at"
    )
    return {pk for pk, revoked_at, expires_at in rows if _guest_valid(revoked_at, expires_at, now)}
