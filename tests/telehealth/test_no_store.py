"""No browser or proxy keeps a copy of an answer (patient data on a shared station PC),
static files apart; HSTS preload is the operator's choice."""

import runpy
from pathlib import Path

import pytest
from channels.testing import HttpCommunicator
from django.test import Client, RequestFactory, override_settings

from telehealth.asgi import application
from telehealth.cache import NoStoreMiddleware
from tests.conftest import Cast

SETTINGS = str(Path(__file__).resolve().parents[2] / "telehealth" / "settings.py")


def _no_store(response) -> bool:
    return response["Cache-Control"] == "no-store" and response["Pragma"] == "no-cache"


@pytest.mark.django_db
def test_a_patient_page_is_not_stored(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.nurse)
    response = client.get(f"/patients/{cast.patient.external_id}/")
    assert response.status_code == 200
    assert _no_store(response)


@pytest.mark.django_db
def test_an_api_answer_is_not_stored_nor_an_error(api, cast: Cast) -> None:
    assert _no_store(api(cast.nurse).get(f"/api/v1/patients/{cast.patient.external_id}/"))
    assert _no_store(api(cast.outsider_nurse).get(f"/api/v1/patients/{cast.patient.external_id}/"))
    assert _no_store(api().get("/api/v1/patients/"))  # 401


@pytest.mark.django_db
def test_the_guest_page_without_an_account_is_not_stored(cast: Cast, consultation) -> None:
    from consults.room.services import guest_invite_create

    _, token = guest_invite_create(
        consultation=consultation, kind="interpreter", minutes=60, actor=cast.specialist
    )
    assert _no_store(Client().get(f"/room/guest/{token}/"))


@pytest.mark.django_db
def test_a_view_that_chose_its_caching_keeps_it(api, cast: Cast) -> None:
    # The calendar feed names no patient and calendar clients poll it.
    from consults.scheduling.models import CalendarFeed

    feed = CalendarFeed.objects.create(user=cast.nurse)
    response = Client().get(f"/api/v1/calendar/{feed.token}.ics")
    assert response["Cache-Control"] == "private, max-age=300"


async def test_a_static_file_served_by_the_app_may_be_cached() -> None:
    comm = HttpCommunicator(application, "GET", "/static/frontend/base.css")
    await comm.send_input({"type": "http.request", "body": b""})
    start = await comm.receive_output(10)  # the headers; the file follows in chunks
    await comm.wait()
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    assert (start["type"], start["status"]) == ("http.response.start", 200)
    assert "no-store" not in headers.get("cache-control", "")
    assert "pragma" not in headers


def test_the_middleware_leaves_static_paths_alone() -> None:
    from django.http import HttpResponse

    middleware = NoStoreMiddleware(lambda request: HttpResponse("body {}"))
    static = middleware(RequestFactory().get("/static/frontend/base.css"))
    page = middleware(RequestFactory().get("/login/"))
    assert not static.has_header("Cache-Control")
    assert _no_store(page)


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    monkeypatch.delenv("SECURE_HSTS_PRELOAD", raising=False)
    monkeypatch.delenv("DEBUG", raising=False)
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("HTTPS", "1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(SETTINGS)


def test_hsts_is_not_preloaded_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    s = _settings(monkeypatch)
    assert s["SECURE_HSTS_SECONDS"] == 31536000
    assert s["SECURE_HSTS_PRELOAD"] is False
    assert "security.W021" in s["SILENCED_SYSTEM_CHECKS"]  # a choice, not a deploy warning


def test_hsts_is_preloaded_when_the_operator_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    s = _settings(monkeypatch, SECURE_HSTS_PRELOAD="1")
    assert s["SECURE_HSTS_PRELOAD"] is True
    assert s["SILENCED_SYSTEM_CHECKS"] == []


@pytest.mark.parametrize(("preload", "header"), [
    (False, "max-age=31536000; includeSubDomains"),
    (True, "max-age=31536000; includeSubDomains; preload"),
])  # fmt: skip
@pytest.mark.django_db
def test_the_hsts_header_says_preload_only_when_set(preload: bool, header: str) -> None:
    with override_settings(
        SECURE_HSTS_SECONDS=31536000,
        SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
        SECURE_HSTS_PRELOAD=preload,
    ):
        response = Client().get("/login/", secure=True)
    assert response["Strict-Transport-Security"] == header
