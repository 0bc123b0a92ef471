"""Fuzzing the consult room socket: random, truncated, oversized and type-confused frames.

The server must never crash: every answer is an `error` frame whose code docs/signaling.md
documents, or a close with a documented code; and a socket that was not closed still answers
`ping`.
"""

import asyncio
import contextlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consults.models import Consultation
from telehealth.asgi import application
from tests.conftest import Cast

pytestmark = pytest.mark.django_db(transaction=True)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "signaling.md").read_text()
CLOSE_CODES = {1000, 4401, 4403, 4404, 4409, 4429}  # never 1009: daphne refuses it
KNOWN_TYPES = [
    "hello", "offer", "answer", "candidate", "restart", "ping", "resync", "quality", "end", "bye",
]  # fmt: skip


def documented_error_codes() -> set[str]:
    section = DOC[DOC.index("### Error codes") :]
    section = section[: section.index("\n## ")]
    return set(re.findall(r"`([a-z_]+)`", section))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
confused = st.fixed_dictionaries(
    {"type": st.sampled_from(KNOWN_TYPES)},
    optional={
        "to": json_values, "sdp": json_values, "candidate": json_values, "from": json_values,
        "restart": json_values, "t": json_values, "rtt_ms": json_values, "ticket": json_values,
    },
)  # fmt: skip
frames = st.one_of(
    json_values.map(json.dumps),
    confused.map(json.dumps),
    confused.map(json.dumps).flatmap(lambda s: st.integers(0, len(s)).map(lambda n: s[:n])),
    st.text(max_size=200),
    st.just("x" * (64 * 1024 + 1)),
    st.just(json.dumps({"type": "ping", "pad": "y" * 70_000})),
)


async def session(consultation: Consultation, cookie: str, sent: list[str]) -> list[Any]:
    """Say hello, send the frames, then ping; return what the server did."""
    comm = WebsocketCommunicator(
        application,
        f"/ws/consultations/{consultation.external_id}/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie.encode())],
    )
    connected, _ = await comm.connect(timeout=5)
    assert connected
    seen: list[Any] = []
    try:
        await comm.send_to(text_data=json.dumps({"type": "hello"}))
        for text in sent:
            await comm.send_input({"type": "websocket.receive", "text": text})  # "" too
            while not await comm.receive_nothing(timeout=0.05):
                message = await comm.receive_output(1)
                if message["type"] == "websocket.close":
                    seen.append(("close", message.get("code", 1000)))
                    return seen
                seen.append(json.loads(message["text"]))
        await comm.send_to(text_data=json.dumps({"type": "ping", "t": 1}))
        while True:  # until the ping's answer, or a close
            try:
                message = await comm.receive_output(5)
            except (TimeoutError, asyncio.CancelledError):
                raise AssertionError(
                    f"silent after {[t[:100] for t in sent]}; saw {seen}"
                ) from None
            if message["type"] == "websocket.close":
                seen.append(("close", message.get("code", 1000)))
                return seen
            seen.append(json.loads(message["text"]))
            if seen[-1]["type"] == "pong":
                return seen
    finally:
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await comm.disconnect()


@pytest.fixture
def cookie(cast: Cast) -> str:
    client = Client()
    client.force_login(cast.nurse)
    return f"sessionid={client.cookies['sessionid'].value}"


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(sent=st.lists(frames, min_size=1, max_size=6))
def test_the_room_answers_garbage_with_documented_errors(
    consultation: Consultation, cookie: str, sent: list[str]
) -> None:
    seen = async_to_sync(session)(consultation, cookie, sent)
    codes = documented_error_codes()
    assert seen, "the server said nothing at all"
    for event in seen:
        if isinstance(event, tuple):
            assert event[1] in CLOSE_CODES, f"undocumented close code {event[1]}"
            continue
        assert isinstance(event, dict)
        assert isinstance(event.get("type"), str)
        assert isinstance(event.get("seq"), int)
        if event["type"] == "error":
            assert event["code"] in codes, f"undocumented error code {event['code']!r}"
    if not isinstance(seen[-1], tuple):
        assert seen[-1]["type"] == "pong", seen[-1]


def test_the_documented_codes_were_read_from_the_protocol() -> None:
    assert {"malformed", "unknown_type", "unknown_field", "forbidden_field"} <= (
        documented_error_codes()
    )
