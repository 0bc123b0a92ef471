"""The cool-down after a flood (docs/signaling.md "Limits"): a socket closed 4429 may not open
another for RATE_LIMIT_COOLDOWN_SECONDS.

Without it a flooder closed 4429 came straight back, and each return was a join and a leave
(session, user, participant, presence: about ten statements and two group sends): four of them
reconnecting 2.5 times a second saturated the process, and another room's ping p99 went from
8 to 129 ms (bench/RESULTS.md). So the refusal comes before any database work: `CooldownGate`
sits in the ASGI stack before the session is read, looks up two keys in one Redis call and,
while either is cooling, answers the socket itself: the `rate_limited` error with
`retry_after` (whole seconds), then close 4429.

The keys are what a socket is known by before the database is asked: its browser session
(the cookie; a participant who signed in) and its client address (a ticket holder, whose
ticket is read from the database). Behind nginx the address is the client's only with
daphne's `--proxy-headers` (docs/deploy.md). The store is the channel layer's Redis, so
every daphne process refuses alike, or this process's memory with the in-memory layer.
A Redis that fails here lets the socket through: the guard answers that failure its own way.
"""

import hashlib
import json
import logging
import math
import time
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from consults.realtime.close import CloseCode
from consults.realtime.events import error_frame
from consults.realtime.failures import LAYER_ERRORS
from telehealth.codes import Code

log = logging.getLogger(__name__)

COOLING_MESSAGE = _("Too many frames; wait before reconnecting.")

# The longest remaining time of the keys, in milliseconds (0: none is cooling).
_REMAINING = """
local longest = 0
for _, key in ipairs(KEYS) do
    local left = redis.call('PTTL', key)
    if left > longest then longest = left end
end
return longest
"""

_local: dict[str, float] = {}  # key → monotonic end, for the in-memory layer


def cooldown_seconds() -> int:
    return int(settings.RATE_LIMIT_COOLDOWN_SECONDS)


def _digest(value: str) -> str:
    # The session key is a credential: Redis holds only its digest.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def cooldown_keys(scope: dict[str, Any]) -> list[str]:
    """The keys a socket is held by: its session cookie and its client address."""
    keys = []
    session = (scope.get("cookies") or {}).get(settings.SESSION_COOKIE_NAME)
    if session:
        keys.append(f"cooldown:session:{_digest(session)}")
    client = scope.get("client")
    if client and client[0]:
        keys.append(f"cooldown:addr:{client[0]}")
    return keys


def _redis(layer: Any) -> Any:
    """The channel layer's Redis connection, or None for a layer without one."""
    connection = getattr(layer, "connection", None)
    return connection(0) if connection is not None else None


async def cooldown_start(scope: dict[str, Any]) -> None:
    """Hold this socket's keys for RATE_LIMIT_COOLDOWN_SECONDS (on its 4429 close)."""
    seconds, keys = cooldown_seconds(), cooldown_keys(scope)
    if seconds <= 0 or not keys:
        return
    redis = _redis(get_channel_layer())
    if redis is None:
        end = time.monotonic() + seconds
        _local.update(dict.fromkeys(keys, end))
        return
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(_prefixed(key), b"1", ex=seconds)
            await pipe.execute()
    except LAYER_ERRORS as exc:
        log.warning("could not start a cool-down: %s: %s", type(exc).__name__, exc)


async def cooldown_remaining(scope: dict[str, Any]) -> int:
    """Whole seconds before this socket may open (0: it may now)."""
    keys = cooldown_keys(scope)
    if cooldown_seconds() <= 0 or not keys:
        return 0
    redis = _redis(get_channel_layer())
    if redis is None:
        now = time.monotonic()
        left = max((_local.get(key, 0.0) - now for key in keys), default=0.0)
        return math.ceil(left) if left > 0 else 0
    try:
        millis = await redis.eval(_REMAINING, len(keys), *map(_prefixed, keys))
    except LAYER_ERRORS as exc:
        log.warning("could not read the cool-down: %s: %s", type(exc).__name__, exc)
        return 0
    return math.ceil(int(millis) / 1000)


def cooldown_clear() -> None:
    """Forget this process's cool-downs (tests; Redis keys expire by themselves)."""
    _local.clear()


def _prefixed(key: str) -> str:
    return f"{getattr(get_channel_layer(), 'prefix', 'asgi')}:{key}"


class CooldownGate:
    """ASGI middleware: a websocket whose keys are cooling is refused before anything else
    runs (no session read, no query)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            left = await cooldown_remaining(scope)
            if left > 0:
                await self.refuse(receive, send, left)
                return None
        return await self.inner(scope, receive, send)

    async def refuse(self, receive: Any, send: Any, retry_after: int) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        frame = error_frame(Code.RATE_LIMITED, COOLING_MESSAGE, None, retry_after=retry_after)
        # The room's frames carry `seq` from 1; the other sockets ignore it.
        await send({"type": "websocket.send", "text": json.dumps({**frame, "seq": 1})})
        await send({"type": "websocket.close", "code": int(CloseCode.RATE_LIMITED)})
