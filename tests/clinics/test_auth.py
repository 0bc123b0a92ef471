"""Login: API tokens, browser sessions, throttling, idle expiry."""

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from clinics.models import LoginFailure
from tests.conftest import Cast

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"
PASSWORD = "test-password-1"


def test_it_issues_a_token_that_authenticates(cast: Cast) -> None:
    response = APIClient().post(TOKEN, {"username": "nurse", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    client = APIClient(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    me = client.get("/api/v1/me/").json()
    assert me["username"] == "nurse"
    assert me["memberships"][0]["role"] == "station_staff"


def test_it_refuses_a_wrong_password(cast: Cast) -> None:
    response = APIClient().post(TOKEN, {"username": "nurse", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"


def test_it_refuses_unknown_fields_on_the_token_endpoint(cast: Cast) -> None:
    body = {"username": "nurse", "password": PASSWORD, "remember": "1"}
    response = APIClient().post(TOKEN, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"


def test_repeated_failures_block_even_the_right_password(cast: Cast, settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    client = APIClient()
    for _ in range(3):
        client.post(TOKEN, {"username": "nurse", "password": "guess"}, format="json")
    response = client.post(TOKEN, {"username": "nurse", "password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    # Another user from another desk is not blocked by the nurse's failures.
    other = APIClient(REMOTE_ADDR="10.0.0.9").post(
        TOKEN, {"username": "specialist", "password": PASSWORD}, format="json"
    )
    assert other.status_code == 200


def test_a_successful_login_clears_the_failures(cast: Cast) -> None:
    client = APIClient()
    client.post(TOKEN, {"username": "nurse", "password": "guess"}, format="json")
    client.post(TOKEN, {"username": "nurse", "password": PASSWORD}, format="json")
    assert not LoginFailure.objects.filter(username="nurse").exists()


def test_the_browser_login_page_logs_in_and_out(cast: Cast) -> None:
    client = Client()
    assert client.get("/patients/").status_code == 302  # to the login page
    response = client.post("/login/", {"username": "nurse", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/patients/").status_code == 200
    client.post("/logout/")
    assert client.get("/patients/").status_code == 302


def test_the_browser_login_page_is_throttled_too(cast: Cast, settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 2
    client = Client()
    for _ in range(2):
        assert client.post("/login/", {"username": "nurse", "password": "x"}).status_code == 400
    response = client.post("/login/", {"username": "nurse", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/patients/").status_code == 302


def test_an_idle_session_expires(cast: Cast, settings: Any, monkeypatch: Any) -> None:
    settings.SESSION_IDLE_TIMEOUT = __import__("datetime").timedelta(minutes=30)
    client = Client()
    client.force_login(cast.nurse)
    assert client.get("/patients/").status_code == 200
    import time

    real = time.time()
    monkeypatch.setattr("clinics.sessions.time.time", lambda: real + 31 * 60)
    assert client.get("/patients/").status_code == 302
