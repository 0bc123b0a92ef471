"""The frame validator: implements the client → server table of docs/signaling.md exactly.

`parse_frame(text)` returns a checked dict and its spec, or raises `ProtocolError` whose
`code` is the `error` frame's code.
"""

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from consults.realtime.guard import parse_json
from telehealth.codes import Code
from telehealth.storable import INT_MAX, shown, text_errors

# The largest finite float: quality metrics go to double precision columns, and a JSON
# integer above it (10**400) cannot even be converted to one.
FLOAT_MAX = sys.float_info.max
MAX_SDP = 60_000
PEER_ID_MAX = 64


class ProtocolError(Exception):
    def __init__(self, code: Code, message: Any, ref: str | None = None) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.ref = ref


@dataclass(frozen=True)
class Field:
    """One field of a frame. `kind` is a Python type or a tuple of types; `bool` is never an int."""

    kind: type | tuple[type, ...]
    required: bool = True
    max_len: int | None = None
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    check: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class FrameSpec:
    type: str
    fields: dict[str, Field] = field(default_factory=dict)
    roles: frozenset[str] | None = None  # None: every role in the room


def _candidate_ok(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, dict):
        return False
    allowed = {"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"}
    if set(value) - allowed or not isinstance(value.get("candidate"), str):
        return False
    if len(value["candidate"]) > 2048:
        return False
    mid = value.get("sdpMid")
    index = value.get("sdpMLineIndex")
    ufrag = value.get("usernameFragment")
    return (
        (mid is None or (isinstance(mid, str) and len(mid) <= 64))
        and (index is None or (type(index) is int and 0 <= index < 1024))
        and (ufrag is None or (isinstance(ufrag, str) and len(ufrag) <= 256))
    )


TO = Field(str, max_len=PEER_ID_MAX)
SDP = Field(str, max_len=MAX_SDP)
METRIC = Field((int, float), required=False, nullable=True, minimum=0, maximum=FLOAT_MAX)

FRAMES = {
    spec.type: spec
    for spec in (
        FrameSpec(
            "hello",
            {"ticket": Field(str, required=False, max_len=128), "client": Field(str, False, 64)},
        ),
        FrameSpec("offer", {"to": TO, "sdp": SDP, "restart": Field(bool, required=False)}),
        FrameSpec("answer", {"to": TO, "sdp": SDP}),
        FrameSpec(
            "candidate", {"to": TO, "candidate": Field(object, nullable=True, check=_candidate_ok)}
        ),
        FrameSpec("restart", {"to": TO}),
        FrameSpec(
            "ping",
            {"t": Field((int, float), required=False, minimum=-FLOAT_MAX, maximum=FLOAT_MAX)},
        ),
        FrameSpec("resync"),
        FrameSpec(
            "quality",
            {
                "rtt_ms": METRIC,
                "loss_pct": METRIC,
                "bitrate_kbps": METRIC,
                "audio_only_s": Field(int, required=False, minimum=0, maximum=INT_MAX),
                "video": Field(bool, required=False),
            },
        ),
        FrameSpec("end", roles=frozenset({"specialist"})),
        FrameSpec("bye"),
    )
}

# Frames relayed to one named peer.
DIRECTED = frozenset({"offer", "answer", "candidate", "restart"})


def _check_field(name: str, rule: Field, value: Any, ref: str) -> None:
    if value is None:
        if rule.nullable:
            return
        raise ProtocolError(Code.INVALID_FIELD, _("“%(f)s” may not be null.") % {"f": name}, ref)
    kinds = rule.kind if isinstance(rule.kind, tuple) else (rule.kind,)
    if object not in kinds:
        is_bool = isinstance(value, bool)
        if (is_bool and bool not in kinds) or not isinstance(value, kinds):
            raise ProtocolError(
                Code.INVALID_FIELD, _("“%(f)s” has the wrong type.") % {"f": name}, ref
            )
    if isinstance(value, float) and not math.isfinite(value):
        raise ProtocolError(
            Code.INVALID_FIELD, _("“%(f)s” must be a finite number.") % {"f": name}, ref
        )
    if rule.max_len is not None and isinstance(value, str) and len(value) > rule.max_len:
        raise ProtocolError(Code.INVALID_FIELD, _("“%(f)s” is too long.") % {"f": name}, ref)
    out_of_range = (rule.minimum is not None and value < rule.minimum) or (
        rule.maximum is not None and value > rule.maximum
    )
    if out_of_range and not isinstance(value, bool):
        raise ProtocolError(Code.INVALID_FIELD, _("“%(f)s” is out of range.") % {"f": name}, ref)
    if rule.check is not None and not rule.check(value):
        raise ProtocolError(Code.INVALID_FIELD, _("“%(f)s” is not valid.") % {"f": name}, ref)


def validate(data: Any) -> FrameSpec:
    """Check a decoded frame against its spec; returns the spec."""
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError(Code.MALFORMED, _("A frame is a JSON object with a string “type”."))
    ref = data["type"]
    spec = FRAMES.get(ref)
    if spec is None:
        raise ProtocolError(Code.UNKNOWN_TYPE, _("Unknown frame type."), shown(ref[:64]))
    if "from" in data:
        raise ProtocolError(Code.FORBIDDEN_FIELD, _("The server sets “from”; do not send it."), ref)
    for name in data:
        if name != "type" and name not in spec.fields:
            raise ProtocolError(
                Code.UNKNOWN_FIELD, _("Unknown field “%(f)s”.") % {"f": shown(name[:64])}, ref
            )
    # NUL and lone surrogates: no text column (a ticket's lookup, `to` in the peer query)
    # and no channel layer (msgpack encodes UTF-8) can carry them (telehealth.storable).
    unstorable = text_errors({k: v for k, v in data.items() if k != "type"})
    if unstorable:
        name, reasons = next(iter(unstorable.items()))
        raise ProtocolError(Code.INVALID_FIELD, f"{name}: {reasons[0]}", ref)
    for name, rule in spec.fields.items():
        if name not in data:
            if rule.required:
                raise ProtocolError(
                    Code.MISSING_FIELD, _("“%(f)s” is required.") % {"f": name}, ref
                )
            continue
        _check_field(name, rule, data[name], ref)
    return spec


def parse_frame(text: str | None) -> tuple[dict[str, Any], FrameSpec]:
    if text is None:
        raise ProtocolError(Code.MALFORMED, _("Send text frames with JSON."))
    try:
        data = parse_json(text)
    except ValueError as exc:
        raise ProtocolError(Code.MALFORMED, _("The frame is not valid JSON.")) from exc
    return data, validate(data)
