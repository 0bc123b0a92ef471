# ruff: noqa: E501  (one row per route reads better than wrapped rows)
"""Every HTTP route × every role of the cast → the expected status.

The routes are discovered from the URL resolver (tests/security/routes.py), so a new endpoint
without a row here fails `test_every_route_has_a_row`; every page (function view) gets a POST
row too, 405 for a page that only displays. A row lists the status for each role in this order:

    station, other_station, specialist, other_specialist,
    coordinator, other_coordinator, admin, province_manager, other_province_manager,
    guest, anonymous

"specialist" is the specialist on the consult, "coordinator" the coordinator of its hospital,
"admin" an `admin` membership (administrators see everything, docs/architecture.md),
"province_manager" a programme manager of the consult's province (Cao Bằng) and
"other_province_manager" one of another province: both see their province's dashboard and
nothing of any patient (404 for every patient's and consult's route, empty lists),
"guest" an invited interpreter (no account: only the guest link), "anonymous" nobody. API
writes are sent with an empty JSON body: 400 means "you may, but say what", which is the
point here; 409 means "you may, but not now" (the world's consult is tomorrow, outside the
check-in window). A page POST sends the form a user of that page would submit (World.form), rolled
back afterwards. Patient data of another facility is always 404.
"""

from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from tests.conftest import Cast
from tests.notes.test_report import require_font
from tests.security.matrix_world import ROLES, World, build_world
from tests.security.routes import http_routes, pages_taking_any_method

pytestmark = pytest.mark.django_db

# fmt: off
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    ('/admin/', 'get'): (302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    # the load balancer's and the scraper's: no login; the test client comes from loopback (METRICS_ALLOWED_IPS)
    ('/healthz', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ('/healthz', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    ('/readyz', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ('/readyz', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    # the providers' delivery receipts: no login, an HMAC signature instead (unsigned here: 403 bad_signature)
    ('/webhooks/messages/{provider}/', 'get'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    ('/webhooks/messages/{provider}/', 'post'): (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    ('/metrics', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ('/metrics', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    ('/api/v1/auth/token/', 'post'): (400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400),
    # logging out revokes the token presented: a browser session has none (401); log out everywhere takes either
    ('/api/v1/auth/token/', 'delete'): (401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401),
    ('/api/v1/auth/tokens/', 'delete'): (204, 204, 204, 204, 204, 204, 204, 204, 204, 401, 401),
    ('/api/v1/me/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/facilities/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/facilities/{id}/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/specialties/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/specialists/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/patients/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/patients/', 'post'): (400, 400, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    ('/api/v1/patients/{id}/', 'get'): (200, 404, 200, 404, 200, 404, 200, 404, 404, 401, 401),
    # an admin edits every patient; a programme manager sees none
    ('/api/v1/patients/{id}/', 'patch'): (200, 404, 403, 404, 403, 404, 200, 404, 404, 401, 401),
    ('/api/v1/patients/{id}/consents/', 'get'): (200, 404, 200, 404, 200, 404, 200, 404, 404, 401, 401),
    ('/api/v1/patients/{id}/consents/', 'post'): (400, 404, 403, 404, 403, 404, 400, 404, 404, 401, 401),
    ('/api/v1/slots/', 'get'): (400, 400, 400, 400, 400, 400, 400, 400, 400, 401, 401),
    ('/api/v1/consultations/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/consultations/', 'post'): (400, 400, 400, 400, 400, 400, 400, 400, 400, 401, 401),
    ('/api/v1/consultations/{id}/', 'get'): (200, 404, 200, 404, 200, 404, 200, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/check-in/', 'post'): (409, 404, 403, 404, 403, 404, 409, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/failed/', 'post'): (400, 404, 400, 404, 400, 404, 400, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/cancel/', 'post'): (400, 404, 400, 404, 400, 404, 400, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/no-show/', 'post'): (400, 404, 400, 404, 400, 404, 400, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/reschedule/', 'post'): (400, 404, 400, 404, 400, 404, 400, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/waitlist/', 'post'): (200, 404, 403, 404, 403, 404, 200, 404, 404, 401, 401),
    # the world's consult waits for an earlier slot, none offered: 409 no_offer
    ('/api/v1/consultations/{id}/waitlist/take/', 'post'): (409, 404, 403, 404, 403, 404, 409, 404, 404, 401, 401),
    ('/api/v1/calendar/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/calendar/', 'post'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/calendar/{token}.ics', 'get'): (200, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    ('/api/v1/requests/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/requests/', 'post'): (400, 400, 400, 400, 400, 400, 400, 400, 400, 401, 401),
    ('/api/v1/requests/{id}/', 'get'): (200, 404, 404, 404, 200, 404, 200, 404, 404, 401, 401),
    ('/api/v1/requests/{id}/accept/', 'post'): (403, 404, 404, 404, 400, 404, 400, 404, 404, 401, 401),
    ('/api/v1/requests/{id}/ask-info/', 'post'): (403, 404, 404, 404, 400, 404, 400, 404, 404, 401, 401),
    ('/api/v1/requests/{id}/answer/', 'post'): (400, 404, 404, 404, 403, 404, 403, 404, 404, 401, 401),
    ('/api/v1/requests/{id}/decline/', 'post'): (403, 404, 404, 404, 400, 404, 400, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/room-ticket/', 'post'): (201, 404, 201, 404, 403, 404, 403, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/room/end/', 'post'): (403, 404, 409, 404, 403, 404, 403, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/guests/', 'post'): (400, 404, 400, 404, 400, 404, 400, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/guests/{guest_id}/', 'delete'): (403, 404, 200, 404, 200, 404, 403, 404, 404, 401, 401),
    ('/api/v1/room/guest-ticket/', 'post'): (400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400),
    # administrators (the whole programme) and programme managers (their province's figures)
    ('/api/v1/dashboard/', 'get'): (404, 404, 404, 404, 404, 404, 200, 200, 200, 401, 401),
    ('/api/v1/dashboard.csv', 'get'): (404, 404, 404, 404, 404, 404, 200, 200, 200, 401, 401),
    ('/api/v1/icd10/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401),
    ('/api/v1/consultations/{id}/notes/', 'get'): (200, 404, 200, 404, 200, 404, 200, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/chat/', 'get'): (200, 404, 200, 404, 200, 404, 200, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/chat/', 'post'): (400, 404, 400, 404, 403, 404, 403, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/attachments/', 'get'): (200, 404, 200, 404, 404, 404, 404, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/attachments/', 'post'): (415, 404, 415, 404, 404, 404, 404, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/attachments/{attachment_id}/', 'get'): (200, 404, 200, 404, 404, 404, 404, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/attachments/{attachment_id}/thumbnail/', 'get'): (200, 404, 200, 404, 404, 404, 404, 404, 404, 401, 401),
    # report rows read the world's signed consult
    ('/api/v1/consultations/{id}/notes/report/', 'get'): (200, 404, 200, 404, 200, 404, 200, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/report/sign/', 'post'): (403, 404, 400, 404, 403, 404, 403, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/report/pdf/', 'get'): (200, 404, 200, 404, 200, 404, 200, 404, 404, 401, 401),
    # participants add to a signed report; a coordinator or an admin only reads it
    ('/api/v1/consultations/{id}/notes/report/addenda/', 'post'): (400, 404, 400, 404, 403, 404, 403, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/submit/', 'post'): (409, 404, 409, 404, 403, 404, 403, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/{section}/', 'put'): (400, 404, 400, 404, 403, 404, 403, 404, 404, 401, 401),
    ('/api/v1/consultations/{id}/notes/{section}/history/', 'get'): (200, 404, 200, 404, 200, 404, 200, 404, 404, 401, 401),
    ('/api/schema/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ('/api/docs/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ('/i18n/setlang/', 'get'): (302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    # Django's language switch; anyone, signed in or not
    ('/i18n/setlang/', 'post'): (302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    ('/', 'get'): (302, 302, 200, 200, 200, 200, 200, 200, 200, 302, 302),
    # a page that only displays refuses a POST (405) once logged in; anonymous is sent to log in first
    ('/', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    ('/login/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    # an empty login form: the error page, for anyone
    ('/login/', 'post'): (400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400),
    # the second step of a login: nobody's login is held here, so back to the password
    ('/login/code/', 'get'): (302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    ('/login/code/', 'post'): (302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    ('/account/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 302, 302),
    ('/account/', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    # enrolment of one's own app; an empty code is refused
    ('/account/two-factor/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 302, 302),
    ('/account/two-factor/', 'post'): (400, 400, 400, 400, 400, 400, 400, 400, 400, 302, 302),
    ('/logout/', 'get'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    ('/logout/', 'post'): (302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    ('/patients/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 302, 302),
    # a full registration: each station nurse registers at her own station (302); anyone else is refused (403) before the form is read, as by the API
    ('/patients/', 'post'): (302, 302, 403, 403, 403, 403, 403, 403, 403, 302, 302),
    ('/patients/{id}/', 'get'): (200, 404, 200, 404, 200, 404, 200, 404, 404, 302, 302),
    # recording consent: the patient's station, and an admin
    ('/patients/{id}/', 'post'): (302, 404, 403, 404, 403, 404, 302, 404, 404, 302, 302),
    # editing: the patient's station and an admin (an empty form is refused field by field)
    ('/patients/{id}/edit/', 'get'): (200, 404, 403, 404, 403, 404, 200, 404, 404, 302, 302),
    ('/patients/{id}/edit/', 'post'): (400, 404, 403, 404, 403, 404, 400, 404, 404, 302, 302),
    ('/book/', 'get'): (200, 200, 403, 403, 403, 403, 403, 403, 403, 302, 302),
    ('/book/', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    ('/book/confirm/', 'get'): (404, 404, 403, 403, 403, 403, 403, 403, 403, 302, 302),
    # no time chosen: 400 once access is settled; another station's patient is 404
    ('/book/confirm/', 'post'): (400, 404, 403, 403, 403, 403, 403, 403, 403, 302, 302),
    ('/agenda/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 302, 302),
    ('/agenda/', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    ('/agenda/check-in/', 'get'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    # the station (and an admin) checks in and lands in the call; the specialist and the coordinator see the consult but may not
    ('/agenda/check-in/', 'post'): (302, 404, 403, 404, 403, 404, 302, 404, 404, 302, 302),
    # no action named: 400 once the consult is seen; another facility's consult is 404
    ('/agenda/{id}/change/', 'get'): (400, 404, 400, 404, 400, 404, 400, 404, 404, 302, 302),
    # cancelling with a reason: whoever may cancel (the station, the specialist, the hospital's coordinator, an admin), as the API
    ('/agenda/{id}/change/', 'post'): (302, 404, 302, 404, 302, 404, 302, 404, 404, 302, 302),
    ('/requests/file/', 'get'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    # a complete request: filed (302) by the patient's station only
    ('/requests/file/', 'post'): (302, 404, 403, 403, 403, 403, 403, 403, 403, 302, 302),
    ('/requests/answer/', 'get'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    # the world's request waits for the station's answer; the coordinator sees it but does not answer it
    ('/requests/answer/', 'post'): (302, 404, 404, 404, 403, 404, 403, 404, 404, 302, 302),
    ('/agenda/waitlist/take/', 'get'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    # no offer yet: back to the agenda with a message (302); the station and an admin, as the API
    ('/agenda/waitlist/take/', 'post'): (302, 404, 403, 404, 403, 404, 302, 404, 404, 302, 302),
    ('/availability/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 302, 302),
    # a weekly rule for the world's specialist: the specialist, their coordinator, an admin
    ('/availability/', 'post'): (404, 404, 302, 404, 302, 404, 302, 404, 404, 302, 302),
    # coordinators (another hospital's sees an empty queue) and an admin, as the API's triage.may_triage; a programme manager does not triage
    ('/triage/', 'get'): (403, 403, 403, 403, 200, 200, 200, 403, 403, 302, 302),
    # asking the station for information: the hospital's coordinator and an admin, as the API's ask-info
    ('/triage/', 'post'): (403, 403, 403, 403, 302, 404, 302, 403, 403, 302, 302),
    ('/room/precall/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 302, 302),
    ('/room/precall/', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    ('/room/waiting/', 'get'): (200, 200, 200, 200, 200, 200, 200, 200, 200, 302, 302),
    ('/room/waiting/', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    ('/room/guest/{token}/', 'get'): (404, 404, 404, 404, 404, 404, 404, 404, 404, 200, 404),
    # refused before the link is read, whoever holds it
    ('/room/guest/{token}/', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    ('/room/{id}/', 'get'): (200, 404, 200, 404, 403, 404, 403, 404, 404, 302, 302),
    ('/room/{id}/', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    ('/room/{id}/prejoin/', 'get'): (200, 404, 200, 404, 403, 404, 403, 404, 404, 302, 302),
    ('/room/{id}/prejoin/', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    ('/consultations/{id}/notes/', 'get'): (200, 404, 200, 404, 200, 404, 200, 404, 404, 302, 302),
    ('/consultations/{id}/notes/', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    # the signed report page: the consult's station, specialist, coordinator, an admin
    ('/consultations/{id}/report/', 'get'): (200, 404, 200, 404, 200, 404, 200, 404, 404, 302, 302),
    ('/consultations/{id}/report/', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
    # the sign page: the consult's specialist only (the API's sign row); a post without its digest is 400
    ('/consultations/{id}/report/sign/', 'get'): (403, 404, 200, 404, 403, 404, 403, 404, 404, 302, 302),
    ('/consultations/{id}/report/sign/', 'post'): (403, 404, 400, 404, 403, 404, 403, 404, 404, 302, 302),
    ('/dashboard/', 'get'): (404, 404, 404, 404, 404, 404, 200, 200, 200, 302, 302),
    ('/dashboard/', 'post'): (405, 405, 405, 405, 405, 405, 405, 405, 405, 302, 302),
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
    if not route.startswith("/api/"):  # a page: its form (World.form), as a browser posts it
        return client.post(url, world.form(route)).status_code
    send = getattr(client, method)
    return send(url, data="{}", content_type="application/json").status_code


def test_every_route_has_a_row() -> None:
    missing = [r for r in http_routes() if r not in MATRIX]
    assert missing == [], f"add these routes to MATRIX: {missing}"
    stale = [r for r in MATRIX if r not in http_routes()]
    assert stale == [], f"these rows name routes that no longer exist: {stale}"


def test_every_page_names_the_methods_it_takes() -> None:
    # Without require_GET/require_POST/require_http_methods a page serves a POST like a GET.
    assert pages_taking_any_method() == []


@pytest.mark.parametrize(("route", "method"), sorted(MATRIX))
def test_each_role_gets_the_expected_status(cast: Cast, route: str, method: str) -> None:
    if route.endswith("/report/pdf/"):
        require_font()  # without it every reader gets 503 report_font_missing
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
