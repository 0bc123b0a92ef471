"""Fixtures of the notes tests: a private file store per test, and sockets through the
real ASGI stack (origin check, session auth, URL router)."""

import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as dj_settings
from django.test import Client

from clinics.models import User
from consults.models import Consultation
from consults.notes.pdf import font_path
from telehealth.asgi import application
from tests import factories


@pytest.fixture(autouse=True)
def notes_storage(settings: Any, tmp_path: Path) -> Path:
    location = tmp_path / "private_media"
    settings.STORAGES = {
        **dj_settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    return location


@pytest.fixture
def async_consult(cast: Any) -> Consultation:
    """A store-and-forward consult; both sides have an e-mail address to be notified at."""
    cast.specialist.email = "specialist@example.org"
    cast.specialist.save()
    cast.nurse.email = "nurse@example.org"
    cast.nurse.save()
    return factories.make_consultation(
        patient=cast.patient,
        specialist=cast.specialist,
        hospital=cast.hospital,
        mode=Consultation.Mode.ASYNC,
    )


def require_font() -> None:
    """The report PDF needs a Vietnamese-capable font (docs/notes.md)."""
    if font_path().is_file():
        return
    message = f"the PDF font {font_path()} is missing: apt-get install fonts-dejavu-core"
    if os.environ.get("TELEHEALTH_REQUIRE_SERVICES"):
        pytest.fail(message)  # CI (.ci/run) installs it: a missing font there is a failure
    pytest.skip(message)


def section_url(consultation: Consultation, section: str) -> str:
    return f"/api/v1/consultations/{consultation.external_id}/notes/{section}/"


def notes_url(consultation: Consultation, rest: str = "") -> str:
    return f"/api/v1/consultations/{consultation.external_id}/notes/{rest}"


def edit(
    text: str = "Đau ngực 2 ngày", base: int = 0, edit_id: str | None = None
) -> dict[str, Any]:
    return {
        "content": {"text": text},
        "base_revision": base,
        "client_edit_id": edit_id or uuid.uuid4().hex,
    }


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return (
        f"{dj_settings.SESSION_COOKIE_NAME}={client.cookies[dj_settings.SESSION_COOKIE_NAME].value}"
    )


class Socket:
    """A WebsocketCommunicator that reads frames as JSON and skips the ones not asked for."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.c = communicator
        self.first: dict[str, Any] = {}

    async def send(self, frame: dict[str, Any]) -> None:
        await self.c.send_to(text_data=json.dumps(frame))

    async def receive(self, wait: float = 3) -> dict[str, Any]:
        return json.loads(await self.c.receive_from(timeout=wait))

    async def expect(self, type_: str, wait: float = 3) -> dict[str, Any]:
        while True:
            frame = await self.receive(wait)
            if frame["type"] == type_:
                return frame

    async def close(self) -> None:
        await self.c.disconnect()


Connect = Callable[..., Awaitable[tuple[bool, Any, Socket]]]


@pytest.fixture
async def ws() -> AsyncIterator[Connect]:
    """ws(user, consultation or id) → (accepted, close_code_or_None, Socket); closed at
    teardown. `Socket.first` is the first frame (on a refusal: the error before the close)."""
    opened: list[Socket] = []

    async def connect(
        user: User | None, consultation: Consultation | str, suffix: str = "notes/"
    ) -> tuple[bool, Any, Socket]:
        headers = [(b"origin", b"http://127.0.0.1")]
        if user is not None:
            cookie = await sync_to_async(session_cookie)(user)
            headers.append((b"cookie", cookie.encode()))
        consult_id = getattr(consultation, "external_id", consultation)
        communicator = WebsocketCommunicator(
            application, f"/ws/consultations/{consult_id}/{suffix}", headers
        )
        accepted, _ = await communicator.connect(timeout=5)
        socket = Socket(communicator)
        opened.append(socket)
        if not accepted:
            return False, None, socket
        first = await communicator.receive_output(timeout=5)
        if first["type"] == "websocket.close":
            return True, first.get("code"), socket
        socket.first = json.loads(first["text"])
        if socket.first["type"] == "error":
            closing = await communicator.receive_output(timeout=5)
            return True, closing.get("code"), socket
        return True, None, socket

    yield connect
    for socket in opened:
        await socket.close()
