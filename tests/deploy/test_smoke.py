"""The stack as docs/deploy.md brings it up: nginx over TLS (deploy/nginx.conf) in front of two
daphne processes run with the systemd unit's command, on PostgreSQL and Redis.

Through nginx: the pages, the API and both consult sockets; the address the app records is
the connecting one, whatever X-Forwarded-For the client writes; one daphne killed, its
clients come back through nginx on the other; each daphne's /metrics counts the sockets of
a live call.
"""

import asyncio
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from websockets.asyncio.client import connect

from clinics.models import AuditEntry, LoginFailure
from consults.realtime.close import CloseCode
from tests.deploy.stack import NGINX, Nginx, UnitDaphne, stack_env
from tests.e2e.calls import call_is_up, leave_and_wait_for_empty_room, station_and_specialist
from tests.e2e.conftest import PASSWORD

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


class Stack:
    def __init__(self, nginx: Nginx, daphnes: list[UnitDaphne]) -> None:
        self.nginx, self.daphnes = nginx, daphnes

    @property
    def url(self) -> str:
        return self.nginx.url


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None, django_db_blocker: Any
) -> Iterator[Stack]:
    if not os.path.exists(NGINX):
        message = "nginx is missing: apt-get install nginx"
        if os.environ.get("TELEHEALTH_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)
    tmp = tmp_path_factory.mktemp("stack")
    nginx = Nginx(tmp, [])
    # The clients trust the test's certificate the way they trust a real one: by the store.
    previous = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(nginx.cert)
    daphnes: list[UnitDaphne] = []
    try:
        with django_db_blocker.unblock():
            for name in ("smoke-a", "smoke-b"):
                daphnes.append(UnitDaphne(name, extra_env=stack_env(nginx.url)).start())
        nginx.upstreams = [d.port for d in daphnes]
        checked = nginx.check()
        assert checked.returncode == 0, checked.stderr
        nginx.start()
        yield Stack(nginx, daphnes)
    finally:
        nginx.stop()
        for daphne in daphnes:
            daphne.stop()
        if previous is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = previous


def fetch(
    url: str, *, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def token(stack: Stack, username: str) -> str:
    status, _, body = fetch(
        f"{stack.url}/api/v1/auth/token/", body={"username": username, "password": PASSWORD}
    )
    assert status == 200, body
    return str(json.loads(body)["token"])


def test_nginx_serves_pages_static_files_and_the_api_over_tls(stack: Stack, cast: Any) -> None:
    status, headers, page = fetch(f"{stack.url}/login/")
    assert status == 200
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    script = re.search(rb'"(/static/[^"]+\.(?:js|css))"', page)
    assert script is not None
    status, _, _ = fetch(stack.url + script.group(1).decode())
    assert status == 200  # nginx's own /static/, daphne serves none (SERVE_STATIC=0)
    status, _, body = fetch(
        f"{stack.url}/api/v1/consultations/",
        headers={"Authorization": f"Token {token(stack, 'nurse')}"},
    )
    assert status == 200
    assert "results" in json.loads(body)
    # Plain HTTP is sent to https; /metrics is never served through nginx.
    assert fetch(f"{stack.url}/metrics")[0] == 404


def test_plain_http_is_redirected_to_https(stack: Stack) -> None:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(f"http://127.0.0.1:{stack.nginx.http_port}/login/", timeout=10)
    assert answer.value.code == 301
    assert answer.value.headers["Location"].startswith("https://127.0.0.1/login/")


def test_a_client_written_x_forwarded_for_changes_neither_the_throttle_nor_the_audit(
    stack: Stack, cast: Any, consultation: Any
) -> None:
    answers = []
    for guess in range(8):
        status, _, body = fetch(
            f"{stack.url}/api/v1/auth/token/",
            body={"username": "nurse", "password": f"wrong-{guess}"},
            headers={"X-Forwarded-For": f"203.0.113.{guess + 1}"},
        )
        answers.append((status, json.loads(body)["code"]))
    # One address guessing one account: stopped at LOGIN_FAILURE_LIMIT (5), however it rotates.
    assert answers[:5] == [(400, "invalid_credentials")] * 5
    assert answers[5:] == [(429, "throttled")] * 3
    assert set(LoginFailure.objects.values_list("ip", flat=True)) == {"127.0.0.1"}

    status, _, _ = fetch(
        f"{stack.url}/api/v1/consultations/{consultation.external_id}/",
        headers={
            "Authorization": f"Token {token(stack, 'specialist')}",
            "X-Forwarded-For": "203.0.113.66",
        },
    )
    assert status == 200
    audited = AuditEntry.objects.filter(object_id=str(consultation.external_id))
    assert audited.exists()
    assert set(audited.values_list("ip", flat=True)) == {"127.0.0.1"}


async def open_notes(stack: Stack, user: Any, consultation: Any) -> Any:
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    cookie = client.cookies["sessionid"].value
    ws_url = stack.url.replace("https", "wss", 1)
    return await connect(
        f"{ws_url}/ws/consultations/{consultation.external_id}/notes/",
        origin=stack.url,  # type: ignore[arg-type]
        additional_headers={"Cookie": f"sessionid={cookie}"},
    )


def open_sockets(daphne: UnitDaphne) -> dict[str, float]:
    with urllib.request.urlopen(f"{daphne.url}/metrics", timeout=5) as r:
        text = r.read().decode()
    return {
        kind: float(value)
        for kind, value in re.findall(
            r'^telehealth_open_sockets\{kind="(\w+)"\} (\S+)$', text, re.M
        )
    }


@pytest.mark.usefixtures("loopback_ice")
async def test_a_call_and_its_notes_go_through_nginx_and_survive_a_killed_daphne(
    stack: Stack, cast: Any, consultation: Any
) -> None:
    station, specialist = station_and_specialist(stack.url, stack.url, consultation)
    notes = await open_notes(stack, cast.nurse, consultation)
    try:
        first = json.loads(await asyncio.wait_for(notes.recv(), 10))
        assert first["type"] != "error", first
        await station.join()
        await specialist.join()
        await call_is_up(station, specialist)
        await call_is_up(specialist, station)
        # Each process counts its own sockets; between them, both peers and the notes.
        counts = [await asyncio.to_thread(open_sockets, d) for d in stack.daphnes]
        assert sum(c.get("room", 0) for c in counts) == 2
        assert sum(c.get("notes", 0) for c in counts) == 1

        # Kill the process serving the station's socket: nginx sends its reconnect to the other.
        serving = [d for d, c in zip(stack.daphnes, counts, strict=True) if c.get("room")]
        victim = serving[0]
        survivor = next(d for d in stack.daphnes if d is not victim)
        await asyncio.to_thread(victim.stop, True)
        await station.wait_for(
            lambda: station.welcomes + specialist.welcomes >= 3 and station.ws is not None, 40
        )
        await call_is_up(station, specialist)
        await call_is_up(specialist, station)
        assert CloseCode.SERVICE_UNAVAILABLE not in station.closed_codes
        survivor_counts = await asyncio.to_thread(open_sockets, survivor)
        assert survivor_counts.get("room") == 2
    finally:
        await notes.close()
        await leave_and_wait_for_empty_room(consultation, station, specialist)
        if stack.daphnes[0].proc and stack.daphnes[0].proc.poll() is not None:
            await asyncio.to_thread(stack.daphnes[0].start)
        if stack.daphnes[1].proc and stack.daphnes[1].proc.poll() is not None:
            await asyncio.to_thread(stack.daphnes[1].start)
