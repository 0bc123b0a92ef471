"""Logging out ends the sockets opened with that browser session, and only those."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from telehealth.asgi import application
from tests.room.conftest import ORIGIN

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def logged_in_browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@database_sync_to_async
def log_out(client: Client) -> int:
    return client.post("/logout/").status_code


async def open_socket(client: Client, path: str) -> WebsocketCommunicator:
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    comm = WebsocketCommunicator(
        application, path, headers=[(b"origin", ORIGIN), (b"cookie", cookie)]
    )
    connected, _ = await comm.connect()
    assert connected
    return comm


async def close_code(comm: WebsocketCommunicator, within: float = 5) -> int:
    while True:
        message = await comm.receive_output(within)
        if message["type"] == "websocket.close":
            return int(message["code"])


async def first_frame(comm: WebsocketCommunicator) -> dict:
    return json.loads((await comm.receive_output(5))["text"])


async def test_logout_closes_the_room_notes_and_feed_of_that_session_only(
    cast, consultation
) -> None:
    browser, other_device = await logged_in_browser(cast.nurse), await logged_in_browser(cast.nurse)
    cid = consultation.external_id
    room = await open_socket(browser, f"/ws/consultations/{cid}/")
    await room.send_to(text_data=json.dumps({"type": "hello"}))
    assert (await first_frame(room))["type"] == "welcome"
    notes = await open_socket(browser, f"/ws/consultations/{cid}/notes/")
    assert (await first_frame(notes))["type"] == "notes.state"
    feed = await open_socket(browser, "/ws/notifications/")
    assert (await first_frame(feed))["type"] == "snapshot"
    elsewhere = await open_socket(other_device, "/ws/notifications/")
    assert (await first_frame(elsewhere))["type"] == "snapshot"

    assert await log_out(browser) == 302

    assert await close_code(room) == 4401
    assert await close_code(notes) == 4401
    assert await close_code(feed) == 4401
    await elsewhere.send_to(text_data=json.dumps({"type": "ping"}))
    assert (await first_frame(elsewhere))["type"] == "pong"  # another session stays
    for comm in (room, notes, feed, elsewhere):
        await comm.disconnect()
