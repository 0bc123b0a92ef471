"""Every access rule on a consultation answers alike in each of its forms, on random small
worlds: one user and one consult (`can_manage(user, consult)`), many (user, consult) pairs in
a constant number of queries (`can_manage.among(pairs)`, what the room's re-check uses) and
the list filter (`can_manage.filter(user, qs)`, `consultations_visible_to`); and the room's
batch re-check (`denied_among`) denies exactly the connections that would not be let in again.
"""

import contextlib
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinics.models import Facility, Membership, User
from consults.access import (
    can_cancel,
    can_check_in,
    can_end,
    can_invite_guests,
    can_join_consultation,
    can_manage,
    can_record_failure,
    can_record_no_show,
    can_see,
    consultation_get_for_user,
    consultations_at_desk_of,
    consultations_visible_to,
    is_assigned_specialist,
    is_station_side,
    room_role,
    room_roles_among,
)
from consults.models import Consultation
from consults.realtime.close import RoomDenied
from consults.room.access import (
    Participant,
    denied_among,
    guest_is_valid,
    room_participant,
    valid_guests_among,
)
from consults.room.models import GuestInvite, RoomPeer
from telehealth.errors import AppError
from tests import factories

pytestmark = pytest.mark.django_db
R = Membership.Role
POLICIES = {
    "can_see": can_see,
    "can_join_consultation": can_join_consultation,
    "is_station_side": is_station_side,
    "is_assigned_specialist": is_assigned_specialist,
    "can_check_in": can_check_in,
    "can_record_no_show": can_record_no_show,
    "can_record_failure": can_record_failure,
    "can_manage": can_manage,
    "can_cancel": can_cancel,
    "can_end": can_end,
    "can_invite_guests": can_invite_guests,
}
# Two stations, a hospital and a provincial hospital: a station-staff membership at a
# hospital makes nobody staff of a station.
FACILITIES = 4


@dataclass
class UserSpec:
    active: bool
    superuser: bool
    memberships: dict[tuple[int, str], bool]  # (facility index, role) → active


@dataclass
class ConsultSpec:
    station: int  # 0 or 1
    specialist: int | None  # user index
    hospital: int | None  # facility index
    status: str
    guests: list[tuple[bool, bool]]  # (revoked, expired)


@dataclass
class World:
    users: list[UserSpec]
    consults: list[ConsultSpec]
    lost: list[tuple[int, int, str]]  # memberships taken away after joining: (user, facility, role)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    memberships = st.dictionaries(
        st.tuples(st.integers(0, FACILITIES - 1), st.sampled_from(list(R))),
        st.booleans(),
        max_size=4,
    )
    users = draw(
        st.lists(
            st.builds(
                UserSpec,
                active=st.booleans(),
                superuser=st.sampled_from([False, False, False, True]),
                memberships=memberships,
            ),
            min_size=1,
            max_size=5,
        )
    )
    n = len(users)
    consults = draw(
        st.lists(
            st.builds(
                ConsultSpec,
                station=st.integers(0, 1),
                specialist=st.none() | st.integers(0, n - 1),
                hospital=st.none() | st.integers(0, FACILITIES - 1),
                status=st.sampled_from(list(Consultation.Status)),
                guests=st.lists(st.tuples(st.booleans(), st.booleans()), max_size=2),
            ),
            min_size=1,
            max_size=4,
        )
    )
    held = [(u, f, role) for u, spec in enumerate(users) for (f, role) in spec.memberships]
    lost = draw(st.lists(st.sampled_from(held), unique=True)) if held else []
    return World(users, consults, lost)


@dataclass
class Stored:
    users: list[User]
    facilities: list[Facility]
    consults: list[Consultation]
    guests: list[GuestInvite]


def _store(world: World) -> Stored:
    kinds = [Facility.Kind.COMMUNE_STATION] * 2 + [
        Facility.Kind.CENTRAL_HOSPITAL,
        Facility.Kind.PROVINCIAL_HOSPITAL,
    ]
    facilities = [factories.make_facility(kind) for kind in kinds]
    users = [factories.make_user(is_active=u.active, is_superuser=u.superuser) for u in world.users]
    Membership.objects.bulk_create(
        Membership(user=users[u], facility=facilities[f], role=role, is_active=active)
        for u, spec in enumerate(world.users)
        for (f, role), active in spec.memberships.items()
    )
    specialty = factories.make_specialty()
    patients = [factories.make_patient(facilities[s]) for s in (0, 1)]
    start = timezone.now() + timedelta(days=1)
    consults, guests = [], []
    for n, c in enumerate(world.consults):
        consult = Consultation.objects.create(
            patient=patients[c.station],
            station=facilities[c.station],
            specialist=None if c.specialist is None else users[c.specialist],
            hospital=None if c.hospital is None else facilities[c.hospital],
            specialty=specialty,
            start=start + timedelta(hours=n),
            end=start + timedelta(hours=n, minutes=30),
            status=c.status,
            created_by=users[0],
        )
        consults.append(consult)
        now = timezone.now()
        for revoked, expired in c.guests:
            guests.append(
                GuestInvite.objects.create(
                    consultation=consult,
                    kind=GuestInvite.Kind.INTERPRETER,
                    invited_by=users[0],
                    revoked_at=now if revoked else None,
                    expires_at=now + timedelta(hours=-1 if expired else 1),
                )
            )
    return Stored(users, facilities, consults, guests)


def _fresh(stored: Stored) -> tuple[list[User], list[Consultation]]:
    users = list(User.objects.filter(pk__in=[u.pk for u in stored.users]).order_by("pk"))
    consults = list(Consultation.objects.filter(pk__in=[c.pk for c in stored.consults]))
    return users, consults


def _check_every_form_agrees(stored: Stored) -> None:
    users, consults = _fresh(stored)
    pairs = [(u.pk, c.pk) for u in users for c in consults]
    user_of = {u.pk: u for u in users}
    consult_of = {c.pk: c for c in consults}
    all_consults = Consultation.objects.filter(pk__in=[c.pk for c in consults])
    for name, policy in POLICIES.items():
        single = {(u, c) for u, c in pairs if policy(user_of[u], consult_of[c])}
        assert policy.among(pairs) == single, name
        for user in users:
            listed = set(policy.filter(user, all_consults).values_list("pk", flat=True))
            assert listed == {c for u, c in single if u == user.pk}, (name, user.username)
    roles = {(u, c): room_role(user_of[u], consult_of[c]) for u, c in pairs}
    assert room_roles_among(pairs) == roles
    for user in users:
        visible = set(consultations_visible_to(user).values_list("pk", flat=True))
        fetched = set()
        for consult in consults:
            with contextlib.suppress(AppError):  # a 404: not visible
                fetched.add(consultation_get_for_user(user, consult.external_id).pk)
        assert visible == fetched == {c.pk for c in consults if can_see(user, c)}
        at_desk = set(consultations_at_desk_of(user).values_list("pk", flat=True))
        assert at_desk == {c.pk for c in consults if can_check_in(user, c)}
    guests = list(GuestInvite.objects.filter(pk__in=[g.pk for g in stored.guests]))
    assert valid_guests_among(g.pk for g in guests) == {g.pk for g in guests if guest_is_valid(g)}


def _admitted(user: User, consult: Consultation) -> Participant | None:
    try:
        return room_participant(consultation_id=str(consult.external_id), user=user)
    except RoomDenied:
        return None


def _check_the_recheck_denies_who_would_not_get_in(world: World, stored: Stored) -> None:
    """Everyone the room lets in now joins; then memberships are lost; the batch re-check
    denies exactly those whom room_participant would not let in again as the same role."""
    users, consults = _fresh(stored)
    items = []
    for user in users:
        for consult in consults:
            joined = _admitted(user, consult)
            if joined is None:
                continue
            peer = f"p{user.pk}-{consult.pk}"
            RoomPeer.objects.create(
                consultation=consult,
                peer_id=peer,
                member=joined.member,
                role=joined.role,
                name=joined.name,
                channel_name=peer,
                joined_rev=1,
                last_seen=timezone.now(),
            )
            items.append((peer, joined))
    for u, f, role in world.lost:
        Membership.objects.filter(
            user=stored.users[u], facility=stored.facilities[f], role=role
        ).update(is_active=False)
    with CaptureQueriesContext(connection) as queries:
        denied = denied_among(items)
    assert len(queries) <= 4
    users, _consults = _fresh(stored)
    by_pk = {u.pk: u for u in users}
    for peer, joined in items:
        assert joined.user is not None
        again = _admitted(by_pk[joined.user.pk], joined.consultation)
        assert (peer not in denied) == (again is not None and again.role == joined.role), peer


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(worlds())
def test_property_every_access_rule_answers_alike_in_each_form(db: None, world: World) -> None:
    # Each example builds its world in a transaction of its own and rolls it back: the next
    # starts from the empty database the test began with.
    with transaction.atomic():
        stored = _store(world)
        _check_every_form_agrees(stored)
        _check_the_recheck_denies_who_would_not_get_in(world, stored)
        transaction.set_rollback(True)


def test_the_bulk_forms_take_a_constant_number_of_queries(cast, consultation) -> None:
    many = [
        factories.make_consultation(
            patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital
        )
        for _ in range(5)
    ]
    users = [cast.nurse, cast.outsider_nurse, cast.specialist, cast.coordinator, cast.admin]
    pairs = [(u.pk, c.pk) for u in users for c in [consultation, *many]]
    with CaptureQueriesContext(connection) as queries:
        found = can_manage.among(pairs)
    assert len(queries) == 3  # accounts, memberships, consults
    assert {u for u, _c in found} == {cast.nurse.pk, cast.coordinator.pk, cast.admin.pk}
