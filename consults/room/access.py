"""Who is in a consult's room: staff of its station, its specialist, its invited guests.

`room_participant(...)` resolves a user or a guest invitation into a `Participant` or raises
`RoomDenied` with the close code of docs/signaling.md (4404, 4403, 4409).
"""

from dataclasses import dataclass

from django.utils import timezone

from clinics.access import parse_uuid, station_staff_memberships
from clinics.models import User
from consults.access import is_assigned_specialist, is_station_side
from consults.models import Consultation
from consults.realtime.close import CloseCode, RoomDenied
from consults.room.models import GuestInvite
from telehealth.errors import AppError

S = Consultation.Status
JOINABLE = frozenset({S.BOOKED, S.CHECKED_IN, S.IN_PROGRESS, S.INTERRUPTED})


@dataclass(frozen=True)
class Participant:
    consultation: Consultation
    member: str  # "u:<uuid>" / "g:<uuid>": one connection per member
    role: str  # station / specialist / guest
    name: str
    user: User | None = None
    guest: GuestInvite | None = None


def room_role(user: User, consultation: Consultation) -> str | None:
    if is_station_side(user, consultation):
        return "station"
    if is_assigned_specialist(user, consultation):
        return "specialist"
    return None


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
        raise RoomDenied(CloseCode.NOT_FOUND, "not_found") from exc


def guest_is_valid(guest: GuestInvite) -> bool:
    return guest.revoked_at is None and guest.expires_at > timezone.now()


def room_participant(
    *, consultation_id: str, user: User | None = None, guest: GuestInvite | None = None
) -> Participant:
    """Resolve who joins; raise RoomDenied (4404 unseen consult, 4403 not on it, 4409 status)."""
    if guest is not None:
        consult = guest.consultation
        if str(consult.external_id) != str(consultation_id):
            raise RoomDenied(CloseCode.NOT_FOUND, "not_found")
        if not guest_is_valid(guest):
            raise RoomDenied(CloseCode.FORBIDDEN, "invite_revoked")
        participant = Participant(
            consult, f"g:{guest.external_id}", "guest", guest.display_name or "Guest", guest=guest
        )
    elif user is not None and user.is_authenticated:
        consult = consultation_by_id(consultation_id)
        role = room_role(user, consult)
        if role is None:
            raise RoomDenied(CloseCode.FORBIDDEN, "not_a_participant")
        participant = Participant(consult, f"u:{user.external_id}", role, user.display_name, user)
    else:
        raise RoomDenied(CloseCode.UNAUTHENTICATED, "not_authenticated")
    if participant.consultation.status not in JOINABLE:
        raise RoomDenied(CloseCode.NOT_JOINABLE, "not_joinable")
    return participant


def denied_among(items: list[tuple[str, Participant]]) -> dict[str, RoomDenied]:
    """Re-check many live connections in four queries: each is still in the room, its consult
    still joinable, and its participant still allowed. Returns the denied ones by peer id."""
    from consults.room.models import RoomPeer

    rows = {
        row["peer_id"]: row
        for row in RoomPeer.objects.filter(peer_id__in=[peer for peer, _ in items]).values(
            "peer_id",
            "consultation__status",
            "consultation__station_id",
            "consultation__specialist_id",
        )
    }
    user_ids = {p.user.pk for _, p in items if p.user is not None}
    active = set(User.objects.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))
    stations = set(
        station_staff_memberships()
        .filter(user_id__in=user_ids)
        .values_list("user_id", "facility_id")
    )
    guest_ids = {p.guest.pk for _, p in items if p.guest is not None}
    guests = set(
        GuestInvite.objects.filter(
            pk__in=guest_ids, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).values_list("pk", flat=True)
    )
    denied: dict[str, RoomDenied] = {}
    for peer, p in items:
        row = rows.get(peer)
        if row is None:
            denied[peer] = RoomDenied(CloseCode.NOT_JOINABLE, "replaced")
        elif row["consultation__status"] not in JOINABLE:
            denied[peer] = RoomDenied(CloseCode.NOT_JOINABLE, "not_joinable")
        elif p.user is not None:
            uid = p.user.pk
            allowed = (
                p.role == "station" and (uid, row["consultation__station_id"]) in stations
            ) or (p.role == "specialist" and row["consultation__specialist_id"] == uid)
            if uid not in active or not allowed:
                denied[peer] = RoomDenied(CloseCode.FORBIDDEN, "access_revoked")
        elif p.guest is None or p.guest.pk not in guests:
            denied[peer] = RoomDenied(CloseCode.FORBIDDEN, "access_revoked")
    return denied
