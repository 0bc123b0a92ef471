"""Every error leaves in one shape, including the unexpected ones."""

import pytest
from django.test import Client, RequestFactory

from telehealth.errors import server_error


def test_an_api_500_is_json_in_the_documented_shape() -> None:
    response = server_error(RequestFactory().get("/api/v1/patients/"))
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/json"
    assert b'"code": "server_error"' in response.content


def test_a_page_500_is_html() -> None:
    response = server_error(RequestFactory().get("/patients/"))
    assert response.status_code == 500
    assert b"<p>" in response.content


@pytest.mark.django_db
def test_an_unknown_api_method_is_405_in_the_shape(cast: object) -> None:
    client = Client()
    response = client.put("/api/v1/auth/token/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_a_page_whose_database_went_away_says_so_with_a_503_not_the_bug_apology() -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import OperationalError

    from telehealth.middleware import AppErrorMiddleware

    request = RequestFactory().get("/agenda/")
    request.user = AnonymousUser()
    request.session = SessionStore()
    response = AppErrorMiddleware(lambda r: None).process_exception(  # type: ignore[arg-type,return-value]
        request, OperationalError("terminating connection due to administrator command")
    )
    assert response is not None
    assert response.status_code == 503
    page = response.content.decode()
    assert "service_unavailable" in page
    assert "Máy chủ mất kết nối cơ sở dữ liệu" in page
