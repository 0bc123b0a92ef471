"""Pages speak Vietnamese first, whatever the browser's language; the switch decides."""

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def test_pages_are_vietnamese_for_an_english_browser() -> None:
    page = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/login/").content.decode()
    assert '<html lang="vi">' in page
    assert "Đăng nhập" in page


def test_the_language_switch_turns_the_pages_to_english() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get("/login/").content.decode()
    assert '<html lang="en">' in page
    assert "Log in" in page


def test_the_api_still_answers_in_the_clients_language(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.nurse)
    english = client.get("/api/v1/patients/not-a-uuid/", HTTP_ACCEPT_LANGUAGE="en").json()
    vietnamese = client.get("/api/v1/patients/not-a-uuid/", HTTP_ACCEPT_LANGUAGE="vi").json()
    assert english["code"] == vietnamese["code"] == "not_found"
    assert english["message"] != vietnamese["message"]
