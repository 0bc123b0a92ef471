"""Store-and-forward hand-offs reach the other side live, on its /ws/notifications/ feed."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from clinics.models import User
from tests.notes.conftest import edit, notes_url, section_url, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

Feed = Callable[[User], Awaitable[WebsocketCommunicator]]


@pytest.fixture
async def feed() -> AsyncIterator[Feed]:
    """feed(user) → the user's /ws/notifications/ socket, past its snapshot; closed at teardown."""
    from telehealth.asgi import application

    opened: list[WebsocketCommunicator] = []

    async def open_feed(user: User) -> WebsocketCommunicator:
        cookie = await sync_to_async(session_cookie)(user)
        headers = [(b"origin", b"http://127.0.0.1"), (b"cookie", cookie.encode())]
        comm = WebsocketCommunicator(application, "/ws/notifications/", headers)
        opened.append(comm)
        accepted, _ = await comm.connect(timeout=5)
        assert accepted
        assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
        return comm

    yield open_feed
    for comm in opened:
        if not comm.future.done():  # a timed-out receive has already cancelled the app
            await comm.disconnect()


async def call(api: Any, user: User, method: str, url: str, body: Any = None) -> Any:
    client = api(user)
    return await sync_to_async(getattr(client, method))(url, body, format="json")


async def submit_case(api: Any, cast: Any, consult: Any) -> None:
    r = await call(api, cast.nurse, "put", section_url(consult, "history"), edit("Ban đỏ 1 tuần"))
    assert r.status_code == 200, r.json()
    r = await call(api, cast.nurse, "post", notes_url(consult, "submit/"))
    assert r.status_code == 201, r.json()


async def test_the_specialist_sees_a_submitted_case_arrive_live(
    cast: Any, api: Any, async_consult: Any, feed: Feed
) -> None:
    specialist = await feed(cast.specialist)
    bystander = await feed(cast.other_specialist)
    await submit_case(api, cast, async_consult)

    event = await specialist.receive_json_from(timeout=5)
    assert event["type"] == "case_submitted"
    assert event["consultation"]["id"] == str(async_consult.external_id)
    assert event["consultation"]["patient"] == "Nông Thị Hoa"
    assert event["consultation"]["station"] == cast.station.name
    assert event["due_at"]
    assert await bystander.receive_nothing(timeout=0.3)


async def test_the_station_sees_the_signed_answer_arrive_live(
    cast: Any, api: Any, async_consult: Any, feed: Feed
) -> None:
    await submit_case(api, cast, async_consult)
    nurse = await feed(cast.nurse)
    outsider = await feed(cast.outsider_nurse)
    assessment = {
        "content": {"text": "Viêm da tiếp xúc"},
        "base_revision": 0,
        "client_edit_id": "e1",
    }
    r = await call(
        api, cast.specialist, "put", section_url(async_consult, "assessment"), assessment
    )
    assert r.status_code == 200, r.json()
    r = await call(api, cast.specialist, "post", notes_url(async_consult, "report/sign/"))
    assert r.status_code == 201, r.json()

    event = await nurse.receive_json_from(timeout=5)
    assert event["type"] == "report_signed"
    assert event["consultation"]["id"] == str(async_consult.external_id)
    assert event["report_id"] == r.json()["id"]
    assert await outsider.receive_nothing(timeout=0.3)
