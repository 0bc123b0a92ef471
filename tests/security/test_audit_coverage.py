"""Every answer that shows a patient leaves a `read` audit entry naming that patient
(DESIGN.md: every read of patient data, over HTTP or WebSocket, goes to the audit log).

Nothing here lists routes. The pages and the API come from the URL resolver as in the
authorization matrix (tests/security/routes.py), the admin's pages from its own resolver, the
sockets from the router, so a new route is covered the day it is added. Each GET route is
requested by every role of the matrix world (tests/security/matrix_world.py); an answer that
names a patient (full name or public id) must have written a `read` entry for that patient in
the same request. A file answer (a PDF, an image) of a consult's route counts as showing the
consult's patient: its bytes do not spell the name. An answer showing no patient passes.
"""

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib import admin
from django.db import models, transaction
from django.http import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from clinics.models import AuditEntry, Patient
from consults.models import Consultation
from consults.realtime.send import room_status_changed
from consults.room.services import guest_join
from telehealth.asgi import application
from tests.conftest import Cast
from tests.notes.test_report import require_font
from tests.security.matrix_world import ROLES, World, build_world
from tests.security.routes import http_routes, ws_routes
from tests.two_factor import login_verified


def queries(route: str, world: World) -> list[str]:
    """Query strings that change what a page shows, beyond the bare route."""
    cast, consult = world.cast, world.consultation
    slot = (
        f"?patient={cast.patient.external_id}&specialist={cast.specialist.external_id}"
        f"&start={quote(consult.start.isoformat())}&end={quote(consult.end.isoformat())}"
    )
    return {
        "/api/v1/requests/": ["?open=true"],
        "/api/v1/patients/": ["?search=Hoa"],
        "/patients/": ["?q=Hoa"],
        "/book/": [f"?patient={cast.patient.external_id}&specialty=cardiology"],
        "/book/confirm/": [slot],
    }.get(route, [])


ADMIN_PARAMETERS = {"object_id", "app_label", "id"}


def shown_patients(body: str, url: str, patients: list[Patient]) -> list[Patient]:
    """The patients an answer names: full name (as written, or JSON-escaped) or public id.
    An id the URL itself carries does not count (a page repeats its own address)."""
    return [
        p
        for p in patients
        if any(form in body for form in (p.full_name, json.dumps(p.full_name)[1:-1]))
        or any(form in body and form not in url for form in (str(p.external_id), p.external_id.hex))
    ]


def _body(response: HttpResponseBase) -> tuple[str | None, bytes]:
    """The answer as text, or None with its bytes for a file (a PDF, an image)."""
    raw = (
        b"".join(response.streaming_content)  # type: ignore[attr-defined]
        if response.streaming
        else response.content  # type: ignore[attr-defined]
    )
    kind = response.get("Content-Type", "")
    if kind.startswith(("text/", "application/json", "application/problem+json")):
        return raw.decode(response.charset or "utf-8", errors="replace"), raw
    return None, raw


def _audited_patients(since: int) -> set[str]:
    """Patients named by the entries written since `since`: reads, and the exports a
    download writes instead (consults.notes.attachments)."""
    entries = AuditEntry.objects.filter(
        pk__gt=since, action__in=[AuditEntry.Action.READ, AuditEntry.Action.EXPORT]
    )
    return {str(pid) for pid in entries.values_list("patient_id", flat=True) if pid is not None}


def _last_entry() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def unaudited(client: Client, url: str, file_patient: Patient | None) -> list[str]:
    """The names of the patients `url` showed without a read entry (rolled back after)."""
    with transaction.atomic():
        since = _last_entry()
        response = client.get(url)
        text, raw = _body(response)
        patients = list(Patient.objects.all())
        if text is not None:
            shown = shown_patients(text, url, patients)
        else:
            shown = [file_patient] if file_patient and response.status_code == 200 and raw else []
        audited = _audited_patients(since)
        transaction.set_rollback(True)
    return [
        f"{p.full_name} ({response.status_code})"
        for p in shown
        if str(p.external_id) not in audited
    ]


def _client(world: World, role: str) -> Client:
    client = Client()
    user = world.user(role)
    if user is not None:
        client.force_login(user)
    return client


GET_ROUTES = sorted(route for route, method in http_routes() if method == "get")


@pytest.mark.django_db
@pytest.mark.parametrize("route", GET_ROUTES)
def test_each_route_audits_the_patients_it_shows(cast: Cast, route: str) -> None:
    if route.endswith("/report/pdf/"):
        require_font()
    world = build_world(cast)
    missing = []
    for role in ROLES:
        client = _client(world, role)
        url = route.format(**world.kwargs(route, role))
        # A file of a consult (its report PDF, an attachment) is that consult's patient's data.
        file_patient = cast.patient if "{id}" in route else None
        for query in ["", *queries(route, world)]:
            missing += [
                f"{role} {url}{query}: {name}"
                for name in unaudited(client, url + query, file_patient)
            ]
    assert missing == [], "shown without a read audit entry:\n" + "\n".join(missing)


def _template(pattern: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)


def admin_routes(patterns: list[Any] | None = None, prefix: str = "") -> list[tuple[str, Any]]:
    """(route template, view) for every page of the admin site, from its resolver."""
    found: list[tuple[str, Any]] = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        part = prefix + str(p.pattern)
        if patterns is None and not part.startswith("admin/"):
            continue
        if isinstance(p, URLResolver):
            found += admin_routes(p.url_patterns, part)
        elif isinstance(p, URLPattern):
            found.append((_template(part), p.callback))
    return found


def _admin_urls(route: str, view: Any) -> Iterator[str]:
    """Each admin route filled with every object of its model (every app for app_label)."""
    names = set(re.findall(r"{(\w+)}", route))
    if not names:
        yield route
        return
    if not names <= ADMIN_PARAMETERS:
        return  # the view-on-site redirect (content type, object) shows nothing itself
    if names == {"app_label"}:
        for label in sorted({m._meta.app_label for m in admin.site._registry}):
            yield route.format(app_label=label)
        return
    model_admin = getattr(view, "model_admin", None)
    if model_admin is None:
        return
    model: type[models.Model] = model_admin.model
    for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)[:30]:
        yield route.format(object_id=pk, id=pk)


@pytest.mark.django_db
def test_each_admin_page_audits_the_patients_it_shows(cast: Cast) -> None:
    build_world(cast)
    client = Client()
    login_verified(client, cast.admin)  # the admin site is behind the second factor
    missing = []
    shown = 0
    for route, view in admin_routes():
        for url in _admin_urls(route, view):
            shown += client.get(url).status_code == 200
            missing += [f"{url}: {name}" for name in unaudited(client, url, None)]
    assert shown > 20  # the admin pages opened (not a login redirect)
    assert missing == [], "shown without a read audit entry:\n" + "\n".join(missing)


ORIGIN = b"http://127.0.0.1"


@database_sync_to_async
def _socket_world(cast: Cast) -> World:
    world = build_world(cast)
    # Checked in: the patient is waiting, so the specialist's feed shows them.
    Consultation.objects.filter(pk=world.consultation.pk).update(
        status=Consultation.Status.CHECKED_IN
    )
    world.consultation.refresh_from_db()
    return world


@database_sync_to_async
def _headers(world: World, role: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", ORIGIN)]
    user = world.user(role)
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return headers


async def _frames(comm: WebsocketCommunicator) -> list[str]:
    frames = []
    while not await comm.receive_nothing(timeout=0.5):
        message = await comm.receive_output(1)
        if message["type"] != "websocket.send":
            break
        frames.append(message.get("text") or "")
    return frames


async def socket_unaudited(route: str, world: World, role: str) -> list[str]:
    """What a socket showed of a patient without a read entry: its opening frames (after a
    `hello` to the room), then what a status change of the world's consult sends it."""
    consult = world.consultation
    path = route.format(consultation_id=consult.external_id, id=consult.external_id)
    since = await database_sync_to_async(_last_entry)()
    comm = WebsocketCommunicator(application, path, headers=await _headers(world, role))
    connected, _ = await comm.connect(timeout=5)
    if not connected:
        return []
    try:
        if "{consultation_id}" in route:
            hello: dict[str, Any] = {"type": "hello"}
            if role == "guest":
                ticket, _ = await database_sync_to_async(guest_join)(
                    token=world.guest_token, display_name="Phiên dịch viên"
                )
                hello["ticket"] = ticket
            await comm.send_to(text_data=json.dumps(hello))
        frames = await _frames(comm)
        await database_sync_to_async(room_status_changed)(consult)
        frames += await _frames(comm)
    finally:
        await comm.disconnect()

    def check() -> list[str]:
        shown = shown_patients("\n".join(frames), path, list(Patient.objects.all()))
        audited = _audited_patients(since)
        return [p.full_name for p in shown if str(p.external_id) not in audited]

    return await database_sync_to_async(check)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", sorted(ws_routes()))
async def test_each_socket_audits_the_patients_it_shows(cast: Cast, route: str) -> None:
    world = await _socket_world(cast)
    missing = []
    for role in ROLES:
        missing += [f"{role}: {name}" for name in await socket_unaudited(route, world, role)]
    assert missing == [], "shown without a read audit entry:\n" + "\n".join(missing)


@pytest.mark.django_db(transaction=True)
async def test_the_feed_names_a_waiting_patient_and_audits_each_frame(cast: Cast) -> None:
    # What keeps the socket check above from passing on a feed that showed nobody.
    world = await _socket_world(cast)
    since = await database_sync_to_async(_last_entry)()
    headers = await _headers(world, "specialist")
    comm = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    assert (await comm.connect(timeout=5))[0]
    try:
        snapshot = await _frames(comm)
        await database_sync_to_async(room_status_changed)(world.consultation)
        event = await _frames(comm)
    finally:
        await comm.disconnect()
    # The feed writes JSON with \u escapes: shown_patients reads both spellings.
    assert shown_patients(snapshot[0], "", [cast.patient]) == [cast.patient]
    assert shown_patients(event[0], "", [cast.patient]) == [cast.patient]

    def entries() -> list[tuple[str, str]]:
        found = AuditEntry.objects.filter(pk__gt=since, patient_id=cast.patient.external_id)
        return list(found.order_by("pk").values_list("action", "channel"))

    assert await database_sync_to_async(entries)() == [("read", "ws"), ("read", "ws")]
