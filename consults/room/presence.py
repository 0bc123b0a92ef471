"""Who is in a room right now, kept in the database so every daphne process agrees.

Joins and leaves of one room are serialized by locking its RoomState row; the room revision
(`rev`) grows by one per join or leave. Liveness is not written per ping: each process knows
when its own connections last sent a frame and sweeps them (consults/room/heartbeat.py),
refreshing their rows' `last_seen` every TTL/3 in one statement; a row older than
ROOM_PEER_TTL_SECONDS belongs to a crashed process (a crash fires no disconnect) and is
removed by any other process's sweep, or by the next join in the room.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.audit import Via, audit_record
from clinics.models import AuditEntry
from consults.access import can_end
from consults.lifecycle import consultation_transition
from consults.models import Consultation
from consults.realtime.close import CloseCode, RoomDenied
from consults.realtime.send import room_status_changed
from consults.room.access import Participant
from consults.room.models import RoomPeer, RoomState
from telehealth.codes import Code
from telehealth.errors import AppError

S = Consultation.Status


@dataclass(frozen=True)
class Departure:
    peer: str
    reason: str
    rev: int
    channel_name: str


@dataclass
class JoinResult:
    me: RoomPeer
    peers: list[RoomPeer]
    rev: int
    consultation: Consultation
    departures: list[Departure] = field(default_factory=list)


def peer_ttl() -> timedelta:
    return timedelta(seconds=settings.ROOM_PEER_TTL_SECONDS)


def _lock_room(consult: Consultation) -> RoomState:
    """Lock the room's row (made on first use), then re-read the consult's status: it may
    have moved since the participant was resolved, or while this join waited for the lock.
    (Read in a statement of its own: a join in the locking query would hand back the
    consult's row as of before the wait.)"""
    state, _ = RoomState.objects.select_for_update().get_or_create(consultation=consult)
    consult.refresh_from_db(fields=["status"])
    return state


def _transition(consult: Consultation, to: str, actor: Any, reason: str) -> None:
    consultation_transition(consultation=consult, to=to, actor=actor, reason=reason)
    transaction.on_commit(lambda: room_status_changed(consult), robust=True)


def _both_sides_in(peers: list[RoomPeer]) -> bool:
    roles = {p.role for p in peers}
    return "station" in roles and "specialist" in roles


def _after_change(consult: Consultation, peers: list[RoomPeer], actor: Any) -> None:
    """The room drives the call's part of the lifecycle; a departure never completes it."""
    if _both_sides_in(peers):
        if consult.status in (S.CHECKED_IN, S.INTERRUPTED):
            _transition(consult, S.IN_PROGRESS, actor, "both sides in the room")
    elif consult.status == S.IN_PROGRESS:
        _transition(consult, S.INTERRUPTED, None, "a side left the room")


def _remove(state: RoomState, rows: list[RoomPeer], reason: str) -> list[Departure]:
    out = []
    for row in rows:
        row.delete()
        state.rev += 1
        out.append(Departure(row.peer_id, reason, state.rev, row.channel_name))
    return out


def room_join(*, participant: Participant, peer_id: str, channel_name: str, via: Via) -> JoinResult:
    """Add a connection to the room. Replaces the member's previous connection; removes
    timed-out peers; refuses a fifth peer (RoomDenied 4409)."""
    consult = participant.consultation
    now = timezone.now()
    with transaction.atomic():
        state = _lock_room(consult)
        room = list(RoomPeer.objects.filter(consultation=consult).order_by("joined_rev"))
        replaced = [p for p in room if p.member == participant.member]
        stale = [p for p in room if p not in replaced and p.last_seen < now - peer_ttl()]
        departures = _remove(state, replaced, "replaced") + _remove(state, stale, "timeout")
        peers = [p for p in room if p not in replaced and p not in stale]
        if len(peers) >= settings.ROOM_MAX_PEERS:
            raise RoomDenied(CloseCode.NOT_JOINABLE, Code.ROOM_FULL)
        state.rev += 1
        state.save(update_fields=["rev"])
        me = RoomPeer.objects.create(
            consultation=consult,
            peer_id=peer_id,
            member=participant.member,
            role=participant.role,
            name=participant.name,
            channel_name=channel_name,
            joined_rev=state.rev,
            last_seen=now,
        )
        if participant.role == "station" and consult.status == S.BOOKED:
            _transition(consult, S.CHECKED_IN, participant.user, "station joined the room")
        _after_change(consult, [*peers, me], participant.user)
        audit_record(
            actor=participant.user,
            action=AuditEntry.Action.READ,
            obj=consult,
            patient=consult.patient,
            via=via,
        )
    return JoinResult(me, peers, state.rev, consult, departures)


def room_leave(*, consultation: Consultation, peer_id: str, reason: str) -> list[Departure]:
    """Remove a connection (if it is still there: it may have been replaced or timed out)."""
    with transaction.atomic():
        state = _lock_room(consultation)
        room = list(RoomPeer.objects.filter(consultation=consultation))
        rows = [p for p in room if p.peer_id == peer_id]
        if not rows:
            return []
        departures = _remove(state, rows, reason)
        state.save(update_fields=["rev"])
        _after_change(consultation, [p for p in room if p.peer_id != peer_id], None)
    return departures


def peers_refresh(*, peer_ids: list[str]) -> None:
    """Mark live peers as seen now, in one statement: each process does it for its own
    connections every TTL/3 (consults/room/heartbeat.py), not on every ping."""
    if peer_ids:
        RoomPeer.objects.filter(peer_id__in=peer_ids).update(last_seen=timezone.now())


def peers_expire(
    *, silent: list[str], alive: list[str]
) -> list[tuple[Consultation, list[Departure]]]:
    """Remove as `timeout` the `silent` peers (judged silent by their own process, from
    their last frame) and every peer not in `alive` whose `last_seen` is older than the TTL
    (a crashed process's: its disconnects never ran). One transaction per room, under the
    room's lock, with the lifecycle step a leave makes. Returns the departures by room."""
    cutoff = timezone.now() - peer_ttl()
    stale = Q(last_seen__lt=cutoff) & ~Q(peer_id__in=alive)
    if silent:
        stale |= Q(peer_id__in=silent)
    room_pks = set(RoomPeer.objects.filter(stale).values_list("consultation_id", flat=True))
    out = []
    for consult in Consultation.objects.filter(pk__in=room_pks):
        with transaction.atomic():
            state = _lock_room(consult)
            room = list(RoomPeer.objects.filter(consultation=consult).order_by("joined_rev"))
            gone = [
                p
                for p in room
                if p.peer_id in silent or (p.last_seen < cutoff and p.peer_id not in alive)
            ]
            if not gone:
                continue
            departures = _remove(state, gone, "timeout")
            state.save(update_fields=["rev"])
            _after_change(consult, [p for p in room if p not in gone], None)
        out.append((consult, departures))
    return out


def room_revs(*, consultation_pks: list[int]) -> dict[int, int]:
    """The presence revision of each of these rooms."""
    rows = RoomState.objects.filter(consultation_id__in=consultation_pks)
    return dict(rows.values_list("consultation_id", "rev"))


def members_present(pairs: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (consultation pk, member) pairs have a connection in their room."""
    rows = RoomPeer.objects.filter(
        consultation_id__in={c for c, _ in pairs}, member__in={m for _, m in pairs}
    ).values_list("consultation_id", "member")
    return set(rows) & set(pairs)


def room_snapshot(*, consultation: Consultation) -> tuple[list[RoomPeer], int, str]:
    consultation.refresh_from_db(fields=["status"])
    peers = list(RoomPeer.objects.filter(consultation=consultation).order_by("joined_rev"))
    rev = RoomState.objects.filter(consultation=consultation).values_list("rev", flat=True).first()
    return peers, rev or 0, consultation.status


def peer_lookup(*, consultation: Consultation, peer_id: str) -> RoomPeer | None:
    return RoomPeer.objects.filter(consultation=consultation, peer_id=peer_id).first()


def room_end(*, consultation: Consultation, actor: Any) -> Consultation:
    """The specialist's explicit end: the only way the room completes a consult. Raises
    AppError `not_allowed` (403) for anyone else (`can_end`), whichever path asks."""
    if not can_end(actor, consultation):
        raise AppError(Code.NOT_ALLOWED, _("Only the specialist ends the consult."), status=403)
    with transaction.atomic():
        _transition(consultation, S.COMPLETED, actor, "ended by the specialist")
    return consultation
