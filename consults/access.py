"""Who may see, join and act on a consultation: every such rule, written once.

A rule is the set of ties a user must have to the consult (any one suffices): administrator,
staff of its station, its specialist, coordinator at its hospital. `ties` reads them from
plain data (a `Standing`, the consult's ids), so each `Policy` answers in three forms that
cannot drift apart: for one user and one consult (`can_manage(user, consult)`), for many
(user, consult) pairs in a constant number of queries (`can_manage.among(pairs)`: the room's
re-check), and as a list filter (`can_manage.filter(user, qs)`). tests/access/ checks that
the three agree on random worlds.
"""

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from clinics.access import Standing, parse_uuid, standing_of, standings_of
from clinics.models import User
from consults.models import Consultation
from telehealth.errors import not_found

S = Consultation.Status
JOINABLE = frozenset({S.BOOKED, S.CHECKED_IN, S.IN_PROGRESS, S.INTERRUPTED})


class Facts(Protocol):
    """What the rules read of a consult: a Consultation, or a row of `consult_facts`."""

    @property
    def station_id(self) -> int: ...
    @property
    def specialist_id(self) -> int | None: ...
    @property
    def hospital_id(self) -> int | None: ...
    @property
    def status(self) -> str: ...


class ConsultFacts(NamedTuple):
    station_id: int
    specialist_id: int | None
    hospital_id: int | None
    status: str


def consult_facts(consult_ids: Iterable[int]) -> dict[int, ConsultFacts]:
    """The facts of many consults (by primary key) in one query."""
    rows = Consultation.objects.filter(pk__in=list(consult_ids)).values_list(
        "pk", "station_id", "specialist_id", "hospital_id", "status"
    )
    return {
        pk: ConsultFacts(station, specialist, hospital, status)
        for pk, station, specialist, hospital, status in rows
    }


class Tie(enum.Flag):
    ADMIN = enum.auto()
    STATION = enum.auto()  # staff of the consult's station
    SPECIALIST = enum.auto()  # the consult's specialist
    COORDINATOR = enum.auto()  # coordinator at the consult's hospital


NONE = Tie(0)


def ties(standing: Standing, consult: Facts) -> Tie:
    """The user's ties to the consult. The list filter (`Policy.filter`) says the same in SQL."""
    found = NONE
    if standing.admin:
        found |= Tie.ADMIN
    if consult.station_id in standing.stations:
        found |= Tie.STATION
    if standing.user_id is not None and consult.specialist_id == standing.user_id:
        found |= Tie.SPECIALIST
    if consult.hospital_id in standing.coordinated:
        found |= Tie.COORDINATOR
    return found


Pair = tuple[int, int]  # (user pk, consult pk)


def ties_among(pairs: Iterable[Pair], facts: dict[int, Facts] | None = None) -> dict[Pair, Tie]:
    """`ties` for many (user, consult) pairs in three queries, read fresh from the database
    (two when the caller has just read the consults' `facts`). A consult that does not exist
    gives no ties."""
    pairs = list(pairs)
    standings = standings_of(uid for uid, _c in pairs)
    if facts is None:
        facts = dict(consult_facts(cid for _u, cid in pairs))
    return {
        (uid, cid): ties(standings[uid], facts[cid]) if cid in facts else NONE for uid, cid in pairs
    }


@dataclass(frozen=True)
class Policy:
    """A rule: the user needs at least one of these ties to the consult."""

    needs: Tie

    def holds(self, standing: Standing, consult: Facts) -> bool:
        return bool(ties(standing, consult) & self.needs)

    def __call__(self, user: Any, consult: Facts) -> bool:
        return self.holds(standing_of(user), consult)

    def among(self, pairs: Iterable[Pair]) -> set[Pair]:
        """The pairs for which the rule holds, in three queries."""
        return {pair for pair, found in ties_among(pairs).items() if found & self.needs}

    def filter(self, user: Any, qs: QuerySet[Consultation]) -> QuerySet[Consultation]:
        """The consults of `qs` for which the rule holds for `user`, in one query more."""
        standing = standing_of(user)
        if Tie.ADMIN in self.needs and standing.admin:
            return qs
        # An empty Q() would drop out of the OR (and mean "everything" alone): no such term.
        terms = []
        if Tie.STATION in self.needs and standing.stations:
            terms.append(Q(station_id__in=standing.stations))
        if Tie.SPECIALIST in self.needs and standing.user_id is not None:
            terms.append(Q(specialist_id=standing.user_id))
        if Tie.COORDINATOR in self.needs and standing.coordinated:
            terms.append(Q(hospital_id__in=standing.coordinated))
        if not terms:
            return qs.none()
        condition = terms[0]
        for term in terms[1:]:
            condition |= term
        return qs.filter(condition)


T = Tie

# Station staff: their station's consults. Specialists: consults assigned to them.
# Coordinators: consults at their hospital. Administrators: all.
can_see = Policy(T.ADMIN | T.STATION | T.SPECIALIST | T.COORDINATOR)
# The call (and writing the notes) is for the consult's station staff and its specialist;
# guests join by their invitation (guest_is_valid). See room_role for the role in the room.
can_join_consultation = Policy(T.STATION | T.SPECIALIST)
is_station_side = Policy(T.STATION)
is_assigned_specialist = Policy(T.SPECIALIST)
# Checking a patient in (and the station's other desk actions: the waitlist) is the station's
# job; administrators see everything and may act for it.
can_check_in = Policy(T.ADMIN | T.STATION)
# A no-show is recorded by the side that saw it: the station (or an admin for it), the specialist.
can_record_no_show = Policy(T.ADMIN | T.STATION | T.SPECIALIST)
# Reschedule: the station, its hospital's coordinators, administrators.
can_manage = Policy(T.ADMIN | T.STATION | T.COORDINATOR)
# A technical failure is seen from both ends of the call, and by the coordinators watching it.
can_record_failure = Policy(T.ADMIN | T.STATION | T.COORDINATOR | T.SPECIALIST)
# Whoever may manage the consult, and its specialist.
can_cancel = Policy(T.ADMIN | T.STATION | T.COORDINATOR | T.SPECIALIST)
# Ending the call completes the consult, a clinical act: only its specialist.
can_end = Policy(T.SPECIALIST)
# A consult request is triaged by its hospital's coordinators (administrators for every one).
can_triage_consultation = Policy(T.ADMIN | T.COORDINATOR)
# A second specialist or an interpreter is brought in by the specialist or a coordinator.
can_invite_guests = Policy(T.SPECIALIST | T.COORDINATOR)


def consultations_visible_to(user: User) -> QuerySet[Consultation]:
    """can_see as a list filter."""
    qs = Consultation.objects.select_related(
        "patient", "station", "station_room", "specialist", "hospital", "specialty"
    )
    return can_see.filter(user, qs)


def consultation_get_for_user(user: User, consultation_id: Any) -> Consultation:
    """The consult if the user may see it, else 404 (never a 403 that confirms it exists)."""
    try:
        return consultations_visible_to(user).get(external_id=parse_uuid(consultation_id))
    except Consultation.DoesNotExist as exc:
        raise not_found(_("No such consultation.")) from exc


def consultations_at_desk_of(user: User) -> QuerySet[Consultation]:
    """can_check_in as a list filter: the consults whose desk actions the user may take."""
    return can_check_in.filter(user, consultations_visible_to(user))


# --- the room ---------------------------------------------------------------------------


def is_joinable(consult: Facts) -> bool:
    return consult.status in JOINABLE


def role_in_room(found: Tie) -> str | None:
    """A participant's role in the room, from their ties (station first: one role each)."""
    if Tie.STATION in found:
        return "station"
    if Tie.SPECIALIST in found:
        return "specialist"
    return None


def room_role(user: Any, consult: Facts) -> str | None:
    """The role the user joins the consult's room in, or None: can_join_consultation."""
    return role_in_room(ties(standing_of(user), consult))


def room_roles_among(
    pairs: Iterable[Pair], facts: dict[int, Facts] | None = None
) -> dict[Pair, str | None]:
    """room_role for many (user, consult) pairs in three queries (see ties_among)."""
    return {pair: role_in_room(found) for pair, found in ties_among(pairs, facts).items()}
