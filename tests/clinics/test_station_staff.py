"""Who is staff of a station: one rule for who may act for it and who hears from it."""

import pytest

from clinics.access import station_ids_of
from clinics.models import Membership
from clinics.selectors import station_staff
from tests import factories
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def test_the_staff_of_a_station_are_those_who_may_act_for_it(cast: Cast) -> None:
    R = Membership.Role
    former = factories.make_user(R.STATION_STAFF, cast.station)
    Membership.objects.filter(user=former).update(is_active=False)
    deactivated = factories.make_user(R.STATION_STAFF, cast.station, is_active=False)

    staff = list(station_staff(cast.station.pk))

    assert staff == [cast.nurse]
    for user in (cast.nurse, former, cast.outsider_nurse, cast.specialist, cast.coordinator):
        assert (user in staff) == (cast.station.pk in station_ids_of(user))
    assert deactivated not in staff  # an account switched off hears nothing, even by e-mail
