"""The frame validator implements docs/signaling.md's client → server table."""

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consults.realtime.inbox import frame_bytes
from consults.room.protocol import FRAMES, MAX_SDP, ProtocolError, parse_frame, validate


def test_a_minimal_offer_is_valid() -> None:
    _data, spec = parse_frame(json.dumps({"type": "offer", "to": "p-1", "sdp": "v=0"}))
    assert spec.type == "offer"


def test_an_end_of_candidates_null_is_valid() -> None:
    validate({"type": "candidate", "to": "p-1", "candidate": None})


def test_a_full_candidate_is_valid() -> None:
    cand = {
        "candidate": "candidate:1 1 udp 1 1.2.3.4 5 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    }
    validate({"type": "candidate", "to": "p-1", "candidate": cand})


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "offer", "to": "p-1", "sdp": "x" * (MAX_SDP + 1)}, "invalid_field"),
        ({"type": "ping", "t": True}, "invalid_field"),
        ({"type": "quality", "audio_only_s": 1.5}, "invalid_field"),
        ({"type": "quality", "rtt_ms": float("nan")}, "invalid_field"),
        (
            {"type": "candidate", "to": "p", "candidate": {"candidate": "c", "x": 1}},
            "invalid_field",
        ),
        (
            {"type": "candidate", "to": "p", "candidate": {"candidate": "c", "sdpMLineIndex": "0"}},
            "invalid_field",
        ),
        ({"type": "answer", "to": "p-1", "sdp": "v", "from": "p-2"}, "forbidden_field"),
        ({"type": 3}, "malformed"),
        ({"no": "type"}, "malformed"),
        ({"type": "restart"}, "missing_field"),
        ({"type": "hello", "ticket": "t" * 129}, "invalid_field"),
    ],
)
def test_it_refuses(frame, code) -> None:
    with pytest.raises(ProtocolError) as caught:
        validate(frame)
    assert caught.value.code == code


def test_bytes_and_invalid_json_are_malformed() -> None:
    for text in (None, "[", "\u0000"):
        with pytest.raises(ProtocolError) as caught:
            parse_frame(text)
        assert caught.value.code == "malformed"


def test_the_size_limit_is_counted_in_utf8_bytes() -> None:
    assert frame_bytes({"text": "a" * 65536}) == 65536
    assert frame_bytes({"text": "ệ" * 30000}) == 90000  # 3 bytes each


def test_every_frame_of_the_doc_is_declared() -> None:
    documented = {"hello", "offer", "answer", "candidate", "restart", "ping", "resync",
                  "quality", "end", "bye"}  # fmt: skip
    assert documented == set(FRAMES)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_it_never_crashes_on_arbitrary_json(value) -> None:
    with contextlib.suppress(ProtocolError):
        validate(value)
