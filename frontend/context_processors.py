"""The top bar's links, by the roles the signed-in user holds."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from clinics.access import hospital_ids_of, is_admin, station_ids_of
from clinics.models import Membership
from consults.dashboard.access import can_see_dashboard
from consults.scheduling.triage import may_triage


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links: list[tuple[str, str]] = []
    if station_ids_of(user):
        links += [
            ("frontend:patients", _("Patients")),
            ("frontend:book", _("Book a consult")),
            ("frontend:agenda", _("Agenda")),
            ("frontend:room-precall", _("Pre-call test")),
        ]
    if hospital_ids_of(user, Membership.Role.SPECIALIST):
        links += [
            ("frontend:agenda", _("Agenda")),
            ("frontend:room-waiting", _("Waiting room")),
            ("frontend:availability", _("Availability")),
        ]
    if may_triage(user):
        links.append(("frontend:triage", _("Triage")))
    if hospital_ids_of(user, Membership.Role.COORDINATOR):
        links += [
            ("frontend:agenda", _("Agenda")),
            ("frontend:availability", _("Availability")),
        ]
    nav: list[dict[str, str]] = []
    for name, label in links:  # a specialist who also coordinates sees "Agenda" once
        url = reverse(name)
        if all(link["url"] != url for link in nav):
            nav.append({"url": url, "label": label})
    if can_see_dashboard(user):
        nav.append({"url": reverse("frontend:dashboard"), "label": _("Programme dashboard")})
    if is_admin(user):
        nav.append({"url": "/admin/", "label": _("Administration")})
    return {"nav_links": nav}
