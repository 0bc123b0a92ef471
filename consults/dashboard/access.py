"""Who sees the programme dashboard, and which part of it (docs/dashboard.md).

Administrators see the whole programme. A programme manager (an active `programme_manager`
membership at a provincial health department) sees their province: the consults whose
station is in it, and the requests filed for them. Everyone else gets a 404, never a 403.
The scope is decided here once; the selectors only apply its filter.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from clinics.access import is_admin, memberships_of
from clinics.models import Facility, Membership
from telehealth.errors import not_found


@dataclass(frozen=True)
class DashboardScope:
    """The provinces whose stations' consults count; None: the whole programme."""

    provinces: frozenset[str] | None

    def consults(self, through: str = "") -> Q:
        """The list filter: consults in the scope, or rows reaching a consult `through` a
        relation path ("consultation__" for requests)."""
        if self.provinces is None:
            return Q()
        return Q(**{f"{through}station__province__in": sorted(self.provinces)})


WHOLE_PROGRAMME = DashboardScope(provinces=None)


def managed_provinces(user: Any) -> frozenset[str]:
    """The provinces of the health departments where `user` is an active programme manager.
    The role at any other kind of facility grants nothing, as station staff's does only at
    a station."""
    memberships = memberships_of(user, Membership.Role.PROGRAMME_MANAGER).filter(
        facility__kind=Facility.Kind.HEALTH_DEPARTMENT
    )
    return frozenset(memberships.values_list("facility__province", flat=True))


def _scope_of(user: Any) -> DashboardScope | None:
    if is_admin(user):
        return WHOLE_PROGRAMME
    provinces = managed_provinces(user)
    return DashboardScope(provinces=provinces) if provinces else None


def can_see_dashboard(user: Any) -> bool:
    return _scope_of(user) is not None


def dashboard_scope_get(user: Any) -> DashboardScope:
    """What of the dashboard `user` sees, or 404."""
    scope = _scope_of(user)
    if scope is None:
        raise not_found()
    return scope
