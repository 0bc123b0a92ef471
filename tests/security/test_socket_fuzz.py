"""A property fuzz over every client frame type of both consult sockets.

For each frame type the room knows (`protocol.FRAMES`) and the notes socket knows
(`frames.HANDLERS`), frames are built with right and wrong values per field: wrong types,
NUL, lone surrogates, huge and negative integers, numbers no float holds (`1e999`, `NaN`, as a
hostile client puts them on the wire), deep nesting, long strings, unknown fields, missing
fields. Each is sent over the real ASGI stack, followed by a probe the socket must answer.
The server never fails (an exception in a consumer surfaces here), every refusal is an
`error` frame whose code the docs document, and the socket is still open after it (the only
close allowed is `bye`'s documented 1000).
"""

import asyncio
import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinics.models import User
from consults.models import Consultation
from consults.notes.frames import HANDLERS
from consults.room.protocol import FRAMES
from telehealth.asgi import application
from tests.conftest import Cast

pytestmark = pytest.mark.django_db(transaction=True)

DOCS = Path(__file__).resolve().parents[2] / "docs"
SIGNALING = (DOCS / "signaling.md").read_text()
NOTES = (DOCS / "notes.md").read_text()
PEER = "__PEER__"  # replaced by the other peer's id when the frame is sent


def between(text: str, start: str, end: str) -> str:
    section = text[text.index(start) :]
    return section[: section.index(end, len(start))]


def codes_in(text: str) -> set[str]:
    return set(re.findall(r"`([a-z_]+)`", text))


def room_codes() -> set[str]:
    return codes_in(between(SIGNALING, "### Error codes", "\n## "))


def notes_codes() -> set[str]:
    """The room's codes (the notes socket shares them), the notes' field-error codes
    ("Limits:"), the notes API's codes ("### Codes") and those of the socket's section."""
    return (
        room_codes()
        | codes_in(between(NOTES, "Limits:", "\n\n"))
        | codes_in(between(NOTES, "### Codes", "\n#"))
        | codes_in(between(NOTES, "## The socket", "\n## "))
    )


# --- JSON fragments: each strategy yields the JSON text of one value --------------------

# Each one once broke a socket, or could: the wire form a hostile client sends.
HOSTILE = [
    json.dumps("\ud800"), json.dumps("a\udfff"), json.dumps("a\x00b"), json.dumps("x" * 70_000),
    json.dumps("y" * 12_000), "1e999", "-1e999", "NaN", "Infinity", "1e308", "-0.0",
    str(10**400), str(2**31), str(2**63), str(-(2**63)), "-1", "0", "true", "null", "[]", "{}",
    "[" * 40 + "]" * 40, "[" * 30_000, '{"x": ' * 35 + "1" + "}" * 35, '{"a": [1, {"b": null}]}',
]  # fmt: skip
hostile = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=20).map(json.dumps),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
)

CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host", "sdpMid": "0"}
ROOM_RIGHT: dict[str, st.SearchStrategy[Any]] = {
    "to": st.just(PEER),
    "sdp": st.just("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"),
    "restart": st.booleans(),
    "candidate": st.sampled_from([CANDIDATE, {**CANDIDATE, "sdpMLineIndex": 0}, None]),
    "t": st.floats(0, 1e12),
    "rtt_ms": st.floats(0, 1e4) | st.none(),
    "loss_pct": st.floats(0, 100) | st.none(),
    "bitrate_kbps": st.floats(0, 1e5) | st.none(),
    "audio_only_s": st.integers(0, 3600),
    "video": st.booleans(),
    "ticket": st.text(max_size=40),
    "client": st.text(max_size=20),
}
NOTES_RIGHT: dict[str, st.SearchStrategy[Any]] = {
    "section": st.sampled_from(["history", "vitals", "assessment", "plan", "followup"]),
    "content": st.sampled_from(
        [{"text": "Sốt 3 ngày"}, {"pulse": 92}, {"date": "2026-12-20"}, {"icd10": ["I10"]}]
    ),
    "base_revision": st.integers(0, 3),
    "client_edit_id": st.uuids().map(str),
    "editing": st.booleans(),
    "text": st.just("Chào bác sĩ"),
    "client_msg_id": st.uuids().map(str),
}


@st.composite
def frame_of(draw: Any, kind: str, fields: list[str], right: dict[str, Any]) -> str:
    """A right frame of `kind` with one thing wrong: a field's value (or a value inside an
    object field), a field left out, a field added, or nothing."""
    values = {name: draw(right[name]) for name in fields}
    text = {name: json.dumps(v) for name, v in values.items()}
    how = draw(st.sampled_from(["value", "value", "inner", "missing", "unknown", "from", "none"]))
    if fields and how in ("value", "inner", "missing"):
        name = draw(st.sampled_from(fields))
        inner = values[name]
        if how == "missing":
            del text[name]
        elif how == "inner" and isinstance(inner, dict) and inner:
            key = draw(st.sampled_from(sorted(inner)))
            rest = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in inner.items() if k != key]
            text[name] = "{" + ", ".join([*rest, f"{json.dumps(key)}: {draw(hostile)}"]) + "}"
        else:
            text[name] = draw(hostile)
    elif how in ("unknown", "value", "inner"):
        key = draw(st.sampled_from(["extra", "\ud800", "a\x00", "type2"]))
        text[key] = draw(hostile)
    elif how == "from":
        text["from"] = json.dumps(PEER)
    body = [f'"type": {json.dumps(kind)}'] + [f"{json.dumps(k)}: {v}" for k, v in text.items()]
    return "{" + ", ".join(body) + "}"


room_frames = st.one_of(
    *(frame_of(kind, list(spec.fields), ROOM_RIGHT) for kind, spec in FRAMES.items()),
    st.text(max_size=60),  # not JSON at all
    hostile,  # JSON, not an object
)
notes_frames = st.one_of(
    *(frame_of(kind, sorted(allowed), NOTES_RIGHT) for kind, (_, allowed) in HANDLERS.items()),
    st.text(max_size=60),
    hostile,
)


# --- the sockets ----------------------------------------------------------------------


def cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def opened(path: str, cookie: bytes) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(
        application, path, headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)]
    )
    connected, _ = await comm.connect(timeout=5)
    assert connected
    return comm


async def until(comm: WebsocketCommunicator, answer: str, sent: str) -> list[Any]:
    """What the server sends up to the frame of type `answer` (or a close)."""
    seen: list[Any] = []
    while True:
        try:
            message = await comm.receive_output(5)
        except (TimeoutError, asyncio.CancelledError):
            raise AssertionError(f"no {answer} after {sent[:200]!r}; saw {seen}") from None
        if message["type"] == "websocket.close":
            return [*seen, ("close", message.get("code", 1000))]
        frame = json.loads(message["text"])
        assert isinstance(frame, dict), frame
        assert isinstance(frame.get("type"), str), frame
        seen.append(frame)
        if frame["type"] == answer:
            return seen


def check(seen: list[Any], codes: set[str], sent: str, *, closes: bool) -> bool:
    """Every refusal documented; a close only where allowed. True if the socket closed."""
    for event in seen:
        if isinstance(event, tuple):
            assert closes, f"closed {event[1]} after {sent[:200]!r}"
            assert event[1] == 1000, f"closed {event[1]} after {sent[:200]!r}"
            return True
        if event["type"] == "error":
            assert event["code"] in codes, f"undocumented {event['code']!r} after {sent[:200]!r}"
    return False


def is_bye(text: str) -> bool:
    """The one frame allowed to close the socket (1000), as frame_of writes it."""
    return text == '{"type": "bye"}'


async def fuzz_room(
    consultation: Consultation, cookies: tuple[bytes, bytes], sent: list[str]
) -> None:
    path = f"/ws/consultations/{consultation.external_id}/"
    me, other = await opened(path, cookies[0]), await opened(path, cookies[1])
    codes = room_codes()
    try:
        await me.send_to(text_data=json.dumps({"type": "hello"}))
        await until(me, "welcome", "hello")
        await other.send_to(text_data=json.dumps({"type": "hello"}))
        peer = (await until(other, "welcome", "hello"))[-1]["peer"]
        for raw in sent:
            text = raw.replace(PEER, peer)
            await me.send_input({"type": "websocket.receive", "text": text})
            await me.send_to(text_data=json.dumps({"type": "ping", "t": 1}))
            if check(await until(me, "pong", text), codes, text, closes=is_bye(text)):
                break
        # The peer every relayed frame reached is still well.
        await other.send_to(text_data=json.dumps({"type": "ping"}))
        check(await until(other, "pong", "(relayed frames)"), codes, "", closes=False)
    finally:
        for comm in (me, other):
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await comm.disconnect()


async def fuzz_notes(consultation: Consultation, cookie: bytes, sent: list[str]) -> None:
    comm = await opened(f"/ws/consultations/{consultation.external_id}/notes/", cookie)
    codes = notes_codes()
    try:
        await until(comm, "notes.state", "(connect)")
        for text in sent:
            await comm.send_input({"type": "websocket.receive", "text": text})
            await comm.send_to(text_data=json.dumps({"type": "chat.sync"}))
            check(await until(comm, "chat.state", text), codes, text, closes=False)
    finally:
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await comm.disconnect()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop for every example of a test: the Redis channel layer's locks belong to
    the loop that made them, so a loop per example (async_to_sync) trips over them."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def room_cookies(cast: Cast) -> tuple[bytes, bytes]:
    return cookie(cast.nurse), cookie(cast.specialist)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(sent=st.lists(room_frames, min_size=1, max_size=8))
def test_every_room_frame_type_is_answered_without_a_crash_or_a_close(
    loop: asyncio.AbstractEventLoop,
    consultation: Consultation,
    room_cookies: tuple[bytes, bytes],
    sent: list[str],
) -> None:
    loop.run_until_complete(fuzz_room(consultation, room_cookies, sent))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(sent=st.lists(notes_frames, min_size=1, max_size=8))
def test_every_notes_frame_type_is_answered_without_a_crash_or_a_close(
    loop: asyncio.AbstractEventLoop, consultation: Consultation, cast: Cast, sent: list[str]
) -> None:
    loop.run_until_complete(fuzz_notes(consultation, cookie(cast.nurse), sent))


def test_the_fuzz_covers_every_frame_type_and_reads_the_documented_codes() -> None:
    assert set(ROOM_RIGHT) == {name for spec in FRAMES.values() for name in spec.fields}
    assert set(NOTES_RIGHT) == {name for _, allowed in HANDLERS.values() for name in allowed}
    assert {"malformed", "unknown_type", "invalid_field", "unknown_peer"} <= room_codes()
    assert {"invalid", "unknown_section", "note_conflict", "report_signed"} <= notes_codes()
