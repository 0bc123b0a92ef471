"""A page that only displays answers a POST with 405 (it used to answer it like a GET); the
pages whose forms really post (login, logout, patients, a patient, the scheduling forms)
keep their POST, as the authorization matrix shows."""

import uuid
from typing import Any

import pytest
from django.test import Client

from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def display_pages(consultation: Any) -> list[str]:
    consult = consultation.external_id
    return [
        "/",
        "/room/precall/",
        "/room/waiting/",
        f"/room/{consult}/",
        f"/consultations/{consult}/notes/",
        f"/consultations/{consult}/report/",
    ]


@pytest.mark.parametrize("who", ["nurse", "specialist"])
def test_it_answers_405_to_a_post_on_a_page_that_only_displays(
    cast: Cast, consultation: Any, who: str
) -> None:
    client = Client()
    client.force_login(getattr(cast, who))
    for url in display_pages(consultation):
        response = client.post(url, {"anything": "x"})
        assert response.status_code == 405, url
        assert response["Allow"] == "GET", url
    assert client.get("/room/precall/").status_code == 200


def test_the_guest_page_answers_405_to_a_post_before_reading_its_link(cast: Cast) -> None:
    response = Client().post(f"/room/guest/{uuid.uuid4().hex}/")
    assert response.status_code == 405
