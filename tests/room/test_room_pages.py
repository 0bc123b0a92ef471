"""The room's pages (the pre-join screen, the call): who gets them, and the page weight budget
(≤ 150 KB, no third party)."""

import posixpath
import re
import uuid
from pathlib import Path

import pytest
from django.test import Client

from tests.room.conftest import ORIGIN

STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static"
pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_station_nurse_gets_the_room_page(cast, consultation) -> None:
    response = client_for(cast.nurse).get(f"/room/{consultation.external_id}/")
    assert response.status_code == 200
    assert b'id="room-config"' in response.content
    assert b'id="end"' not in response.content  # only the specialist ends


def test_the_specialist_gets_the_end_button(cast, consultation) -> None:
    response = client_for(cast.specialist).get(f"/room/{consultation.external_id}/")
    assert b'id="end"' in response.content


def test_an_outsider_is_refused_the_room_page(cast, consultation) -> None:
    # Another station cannot see the consult at all: not found, like every other page.
    response = client_for(cast.outsider_nurse).get(f"/room/{consultation.external_id}/")
    assert response.status_code == 404


def test_a_coordinator_who_sees_the_consult_is_told_they_cannot_join(cast, consultation) -> None:
    response = client_for(cast.coordinator).get(f"/room/{consultation.external_id}/")
    assert response.status_code == 403


def test_an_unknown_consult_has_no_room_page(cast) -> None:
    assert client_for(cast.nurse).get(f"/room/{uuid.uuid4()}/").status_code == 404


def test_an_anonymous_visitor_is_sent_to_login(consultation) -> None:
    response = Client().get(f"/room/{consultation.external_id}/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_forged_guest_link_is_not_found() -> None:
    assert Client().get("/room/guest/not-a-signed-token/").status_code == 404


def test_the_pre_join_screen_is_for_the_participants_only(cast, consultation) -> None:
    url = f"/room/{consultation.external_id}/prejoin/"
    response = client_for(cast.nurse).get(url)
    assert response.status_code == 200
    assert b'id="prejoin-config"' in response.content
    assert f'href="/room/{consultation.external_id}/"'.encode() in response.content  # join
    assert client_for(cast.outsider_nurse).get(url).status_code == 404
    assert client_for(cast.coordinator).get(url).status_code == 403
    assert Client().get(url).status_code == 302


def test_the_precall_test_is_the_pre_join_screen_with_nothing_to_join(cast) -> None:
    response = client_for(cast.nurse).get("/room/precall/")
    assert b'id="prejoin-config"' in response.content
    assert b'id="join"' not in response.content


def test_the_precall_and_waiting_pages_need_a_login(cast) -> None:
    for path in ("/room/precall/", "/room/waiting/"):
        assert Client().get(path).status_code == 302
        assert client_for(cast.nurse).get(path).status_code == 200


def imported(asset: str) -> set[str]:
    """The static files a page's asset pulls in: the module itself and every module it imports."""
    seen, todo = set(), [asset]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.endswith(".js"):
            source = (STATIC / name).read_text()
            for target in re.findall(r'^(?:import|export)[^"]*"(\.{1,2}/[^"]+)";', source, re.M):
                todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(name), target)))
    return seen


@pytest.mark.parametrize("page", ["", "prejoin/"])
def test_the_room_pages_weigh_under_150_kb_with_no_third_party_request(
    cast, consultation, page
) -> None:
    html = client_for(cast.specialist).get(f"/room/{consultation.external_id}/{page}")
    html = html.content.decode()
    files = set().union(*(imported(a) for a in re.findall(r'(?:src|href)="/static/([^"]+)"', html)))
    assert "frontend/format.js" in files  # the imports were followed
    if not page:
        assert {"frontend/room/call.js", "frontend/notes/notes.js", "frontend/socket.js"} <= files
    total = len(html.encode()) + sum((STATIC / f).stat().st_size for f in files)
    print(f"room page: {total} bytes")
    assert total <= 150 * 1024, total
    everything = html + "".join((STATIC / f).read_text() for f in files)
    origins = set(re.findall(r"https?://[^\s\"'`/)]+", everything)) - {ORIGIN.decode()}
    assert origins == set(), origins
