# ruff: noqa: E501  (one row per route reads better than wrapped rows)
"""Every HTTP route × every role of the cast → the expected status.

The routes are discovered from the URL resolver, so a new endpoint without a row here fails
`test_every_route_has_a_row`. A row lists the status for each role in this order:

    station, other_station, specialist, other_specialist,
    coordinator, other_coordinator, guest, anonymous

"specialist" is the specialist on the consult, "coordinator" the coordinator of its hospital,
"guest" an invited interpreter (no account: only the guest link), "anonymous" nobody. Writes
are sent with an empty JSON body: 400 means "you may, but say what", which is the point here.
Patient data of another facility is always 404.
"""

from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from tests.conftest import Cast
from tests.security.matrix_world import ROLES, World, build_world
from tests.security.routes import http_routes

pytestmark = pytest.mark.django_db

# fmt: off
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    ('/admin/', 'get'): (302, 302, 302, 302, 302, 302, 302, 302),
    ('/api/v1/auth/token/', 'post'): (400, 400, 400, 400, 400, 400, 400, 400),
    ('/api/v1/me/', 'get'): (200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/facilities/', 'get'): (200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/facilities/{id}/', 'get'): (200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/specialties/', 'get'): (200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/specialists/', 'get'): (200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/patients/', 'get'): (200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/patients/', 'post'): (400, 400, 403, 403, 403, 403, 401, 401),
    ('/api/v1/patients/{id}/', 'get'): (200, 404, 200, 404, 200, 404, 401, 401),
    ('/api/v1/patients/{id}/', 'patch'): (200, 404, 403, 404, 403, 404, 401, 401),
    ('/api/v1/patients/{id}/consents/', 'get'): (200, 404, 200, 404, 200, 404, 401, 401),
    ('/api/v1/patients/{id}/consents/', 'post'): (400, 404, 403, 404, 403, 404, 401, 401),
    ('/api/v1/slots/', 'get'): (400, 400, 400, 400, 400, 400, 401, 401),
    ('/api/v1/consultations/', 'get'): (200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/consultations/', 'post'): (400, 400, 400, 400, 400, 400, 401, 401),
    ('/api/v1/consultations/{id}/', 'get'): (200, 404, 200, 404, 200, 404, 401, 401),
    ('/api/v1/consultations/{id}/check-in/', 'post'): (200, 404, 403, 404, 403, 404, 401, 401),
    ('/api/v1/consultations/{id}/cancel/', 'post'): (400, 404, 400, 404, 400, 404, 401, 401),
    ('/api/v1/consultations/{id}/no-show/', 'post'): (400, 404, 400, 404, 400, 404, 401, 401),
    ('/api/v1/consultations/{id}/reschedule/', 'post'): (400, 404, 400, 404, 400, 404, 401, 401),
    ('/api/v1/consultations/{id}/waitlist/', 'post'): (200, 404, 403, 404, 403, 404, 401, 401),
    ('/api/v1/consultations/{id}/waitlist/take/', 'post'): (404, 404, 403, 404, 403, 404, 401, 401),
    ('/api/v1/calendar/', 'get'): (200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/calendar/', 'post'): (200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/calendar/{token}.ics', 'get'): (200, 404, 404, 404, 404, 404, 404, 404),
    ('/api/v1/requests/', 'get'): (200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/requests/', 'post'): (400, 400, 400, 400, 400, 400, 401, 401),
    ('/api/v1/requests/{id}/', 'get'): (200, 404, 404, 404, 200, 404, 401, 401),
    ('/api/v1/requests/{id}/accept/', 'post'): (403, 404, 404, 404, 400, 404, 401, 401),
    ('/api/v1/requests/{id}/ask-info/', 'post'): (403, 404, 404, 404, 400, 404, 401, 401),
    ('/api/v1/requests/{id}/answer/', 'post'): (400, 404, 404, 404, 403, 404, 401, 401),
    ('/api/v1/requests/{id}/decline/', 'post'): (403, 404, 404, 404, 400, 404, 401, 401),
    ('/api/v1/consultations/{id}/room-ticket/', 'post'): (201, 404, 201, 404, 403, 404, 401, 401),
    ('/api/v1/consultations/{id}/room/end/', 'post'): (403, 404, 409, 404, 403, 404, 401, 401),
    ('/api/v1/consultations/{id}/guests/', 'post'): (400, 404, 400, 404, 400, 404, 401, 401),
    ('/api/v1/consultations/{id}/guests/{guest_id}/', 'delete'): (403, 404, 200, 404, 200, 404, 401, 401),
    ('/api/v1/room/guest-ticket/', 'post'): (400, 400, 400, 400, 400, 400, 400, 400),
    ('/api/v1/dashboard/', 'get'): (404, 404, 404, 404, 404, 404, 401, 401),
    ('/api/v1/dashboard.csv', 'get'): (404, 404, 404, 404, 404, 404, 401, 401),
    ('/api/v1/icd10/', 'get'): (200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/consultations/{id}/notes/', 'get'): (200, 404, 200, 404, 200, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/chat/', 'get'): (200, 404, 200, 404, 200, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/chat/', 'post'): (400, 404, 400, 404, 403, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/attachments/', 'get'): (200, 404, 200, 404, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/attachments/', 'post'): (415, 404, 415, 404, 403, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/attachments/{attachment_id}/', 'get'): (200, 404, 200, 404, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/attachments/{attachment_id}/thumbnail/', 'get'): (200, 404, 200, 404, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/report/', 'get'): (404, 404, 404, 404, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/report/sign/', 'post'): (403, 404, 400, 404, 403, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/report/pdf/', 'get'): (404, 404, 404, 404, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/report/addenda/', 'post'): (400, 404, 400, 404, 403, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/submit/', 'post'): (409, 404, 409, 404, 403, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/{section}/', 'put'): (400, 404, 400, 404, 403, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/{section}/history/', 'get'): (200, 404, 200, 404, 200, 404, 401, 401),
    ('/api/schema/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200),
    ('/api/docs/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200),
    ('/i18n/setlang/', 'get'): (302, 302, 302, 302, 302, 302, 302, 302),
    ('/', 'get'): (302, 302, 200, 200, 200, 200, 302, 302),
    ('/login/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200),
    ('/logout/', 'get'): (405, 405, 405, 405, 405, 405, 405, 405),
    ('/patients/', 'get'): (200, 200, 200, 200, 200, 200, 302, 302),
    ('/patients/{id}/', 'get'): (200, 404, 200, 404, 200, 404, 302, 302),
    ('/book/', 'get'): (200, 200, 403, 403, 403, 403, 302, 302),
    ('/book/confirm/', 'get'): (404, 404, 403, 403, 403, 403, 302, 302),
    ('/agenda/', 'get'): (200, 200, 200, 200, 200, 200, 302, 302),
    ('/requests/file/', 'get'): (405, 405, 405, 405, 405, 405, 302, 302),
    ('/requests/answer/', 'get'): (405, 405, 405, 405, 405, 405, 302, 302),
    ('/agenda/waitlist/take/', 'get'): (405, 405, 405, 405, 405, 405, 302, 302),
    ('/availability/', 'get'): (200, 200, 200, 200, 200, 200, 302, 302),
    ('/triage/', 'get'): (403, 403, 403, 403, 200, 200, 302, 302),
    ('/room/waiting/', 'get'): (200, 200, 200, 200, 200, 200, 302, 302),
    ('/room/precall/', 'get'): (200, 200, 200, 200, 200, 200, 302, 302),
    ('/room/guest/{token}/', 'get'): (404, 404, 404, 404, 404, 404, 200, 404),
    ('/room/{id}/', 'get'): (200, 404, 200, 404, 403, 404, 302, 302),
    ('/consultations/{id}/notes/', 'get'): (200, 404, 200, 404, 200, 404, 302, 302),
    ('/consultations/{id}/report/', 'get'): (404, 404, 404, 404, 404, 404, 302, 302),
    ('/dashboard/', 'get'): (404, 404, 404, 404, 404, 404, 302, 302),
}
# fmt: on


def url_of(route: str, world: World, role: str) -> str:
    return route.format(**world.kwargs(route, role))


def call(route: str, method: str, world: World, role: str) -> int:
    """One request, rolled back afterwards: each role meets the same world."""
    with transaction.atomic():
        status = _request(route, method, world, role)
        transaction.set_rollback(True)
    return status


def _request(route: str, method: str, world: World, role: str) -> int:
    client = Client()
    user = world.user(role)
    if user is not None:
        client.force_login(user)
    url = url_of(route, world, role)
    if method == "get":
        return client.get(url).status_code
    send = getattr(client, method)
    return send(url, data="{}", content_type="application/json").status_code


def test_every_route_has_a_row() -> None:
    missing = [r for r in http_routes() if r not in MATRIX]
    assert missing == [], f"add these routes to MATRIX: {missing}"
    stale = [r for r in MATRIX if r not in http_routes()]
    assert stale == [], f"these rows name routes that no longer exist: {stale}"


@pytest.mark.parametrize(("route", "method"), sorted(MATRIX))
def test_each_role_gets_the_expected_status(cast: Cast, route: str, method: str) -> None:
    world = build_world(cast)
    got = tuple(call(route, method, world, role) for role in ROLES)
    expected = MATRIX[(route, method)]
    assert got == expected, _diff(got, expected)


def _diff(got: tuple[int, ...], expected: tuple[int, ...]) -> str:
    return ", ".join(
        f"{role}: got {g}, expected {e}"
        for role, g, e in zip(ROLES, got, expected, strict=True)
        if g != e
    )


def observed_matrix(cast: Cast) -> dict[tuple[str, str], tuple[int, ...]]:
    """Used once to draft MATRIX; every row was then read and checked by hand."""
    table: dict[tuple[str, str], Any] = {}
    world = build_world(cast)
    for route, method in http_routes():
        table[(route, method)] = tuple(call(route, method, world, role) for role in ROLES)
    return table
