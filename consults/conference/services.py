"""Writes for case conferences: open a consult's Janus room, issue a participant's token,
revoke it, close the room. The app decides who joins (room_role); Janus only checks tokens.

Each write keeps the database and Janus in step: the row is written in a transaction that
rolls back if Janus refuses, so nothing half-written stays on our side. A room Janus created
before a failed commit is not permanent and holds no one without a token we issued.
"""

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consults.access import is_joinable, room_role
from consults.conference import janus
from consults.conference.models import Conference, ConferenceSeat
from consults.models import Consultation
from telehealth.codes import Code
from telehealth.errors import AppError

MAX_PARTICIPANTS = 8
# Publisher ids and room numbers stay below 2**53: the browser reads them as JS numbers.
_ID_LIMIT = 2**53


def _new_id() -> int:
    return secrets.randbelow(_ID_LIMIT - 1) + 1


def conference_open(*, consultation: Consultation) -> Conference:
    """The consult's conference, creating its Janus room the first time (idempotent)."""
    if not is_joinable(consultation):
        raise AppError(Code.NOT_JOINABLE, _("This consultation cannot be joined now."), status=409)
    with transaction.atomic():
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        found = Conference.objects.filter(consultation=locked, closed_at__isnull=True).first()
        if found is not None:
            return found
        Conference.objects.filter(consultation=locked).delete()  # a closed one: start afresh
        conference = Conference.objects.create(
            consultation=locked, room=_new_id(), secret=secrets.token_urlsafe(24)
        )
        janus.videoroom(
            "create",
            room=conference.room,
            secret=conference.secret,
            publishers=MAX_PARTICIPANTS,
            allowed=[],
            is_private=True,
            permanent=False,
            audiolevel_event=True,
        )
    return conference


def conference_seat_issue(*, consultation: Consultation, user: Any) -> ConferenceSeat:
    """A Janus token for `user` in the consult's conference (a fresh one each call: the
    previous live seat, if any, is revoked). Refused unless the user may join the room."""
    if room_role(user, consultation) is None:
        raise AppError(
            Code.NOT_A_PARTICIPANT,
            _("You are not a participant of this consultation."),
            status=403,
        )
    conference = conference_open(consultation=consultation)
    previous = ConferenceSeat.objects.filter(
        conference=conference, user=user, revoked_at__isnull=True
    ).first()
    if previous is not None:
        _revoke(previous)
    with transaction.atomic():
        seat = ConferenceSeat.objects.create(
            conference=conference, user=user, token=secrets.token_urlsafe(32), feed=_new_id()
        )
        janus.add_token(seat.token)
        try:
            janus.videoroom(
                "allowed",
                room=conference.room,
                secret=conference.secret,
                action="add",
                allowed=[seat.token],
            )
        except AppError:
            janus.remove_token(seat.token)
            raise
    return seat


def _revoke(seat: ConferenceSeat) -> None:
    """Take the seat's token out of Janus (core and room) and kick its publisher."""
    conference = seat.conference
    with transaction.atomic():
        locked = ConferenceSeat.objects.select_for_update().get(pk=seat.pk)
        if locked.revoked_at is not None:
            return
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at", "updated_at"])
        # Core first: from here no request with the token is accepted, long polls included.
        janus.remove_token(locked.token)
        if conference.closed_at is None:
            janus.videoroom(
                "allowed",
                room=conference.room,
                secret=conference.secret,
                action="remove",
                allowed=[locked.token],
            )
            # Every Janus session opened with the token goes, subscriptions included (they
            # would flow until session_timeout otherwise); then the feed is kicked.
            for session in janus.sessions_of(locked.token):
                janus.destroy_session(session)
            _kick(conference, locked.feed)
    seat.revoked_at = locked.revoked_at


def _kick(conference: Conference, feed: int) -> None:
    try:
        janus.videoroom("kick", room=conference.room, secret=conference.secret, id=feed)
    except AppError as exc:
        # 428: no such feed (never joined, or already left); the token is gone either way.
        if "428" not in str(exc.extra.get("detail", "")):
            raise


def conference_seat_revoke(*, consultation: Consultation, user: Any) -> None:
    """A participant removed from the consult: her token stops working and she is kicked."""
    for seat in ConferenceSeat.objects.filter(
        conference__consultation=consultation, user=user, revoked_at__isnull=True
    ).select_related("conference"):
        _revoke(seat)


def conference_close(*, consultation: Consultation) -> None:
    """The consult ended: every token is revoked and the Janus room destroyed (which hangs
    up everyone still in it). Idempotent."""
    conference = Conference.objects.filter(
        consultation=consultation, closed_at__isnull=True
    ).first()
    if conference is None:
        return
    for seat in conference.seats.filter(revoked_at__isnull=True):
        seat.conference = conference
        _revoke(seat)
    with transaction.atomic():
        conference.closed_at = timezone.now()
        conference.save(update_fields=["closed_at", "updated_at"])
        try:
            janus.videoroom("destroy", room=conference.room, secret=conference.secret)
        except AppError as exc:
            if "426" not in str(exc.extra.get("detail", "")):  # 426: no such room
                raise
