"""The socket guard every consumer stands behind (docs/signaling.md "Limits").

Channels reads a consumer's ASGI `receive` only between handlers: while a handler waits on
the database, the client's frames pile up in daphne's application queue, unseen. A rate
limit charged when a frame is handled is then charged at the consumer's pace, not the
client's: four sockets sending 1,000 pings in 0.05 s were never cut off. Here `receive` is
read eagerly, by a task of its own (`Inbox`), which charges each frame to one token bucket
and checks its size the moment it arrives; the consumer reads from the inbox. A flood drops
what is still queued and puts the refusal first, so it is answered after the handler now
running, not after the backlog.

Refusals reach the consumer as `guard.refused` messages: an oversized frame gets an `error`
frame and the socket stays open (a refusable frame never closes it); a flood gets the
`rate_limited` error and a 4429 close. The guard also joins and leaves the browser session's
group (a logout ends the socket, 4401) and can ask for a periodic access re-check
(`guard.recheck`). It holds the socket to its session's idle rule (clinics.sessions): a
session idle past SESSION_IDLE_MINUTES is refused on connect and closed by the re-check (4401
`session_expired`), and the frames a person sends stamp the session's `last_seen`, at most
once per `touch_interval()`.

A 4429 also starts the socket's cool-down (consults.realtime.cooldown): its `rate_limited`
error carries `retry_after`, and a socket opened before then is refused before the database
is asked. Redis and the database may fail under a socket: the guard runs Channels' consumer
loop itself so that neither kills the consumer with a traceback, and answers each failure by
the rule of consults.realtime.failures.
"""

import asyncio
import json
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer, JsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.utils.translation import gettext_lazy as _

from clinics.sessions import SessionState, session_seen, session_state, touch_interval
from consults.realtime.close import CloseCode, RoomDenied
from consults.realtime.cooldown import cooldown_seconds, cooldown_start
from consults.realtime.events import error_frame
from consults.realtime.failures import (
    LAYER_ERRORS,
    SERVICE_ERRORS,
    UNAVAILABLE,
    UNAVAILABLE_MESSAGE,
    Answer,
    FailureRule,
)
from consults.realtime.groups import session_group
from consults.realtime.inbox import Inbox, Limits
from telehealth import metrics
from telehealth.codes import Code

LAYER_LOST = "guard.layer_lost"


def _session_key(scope: dict[str, Any]) -> str | None:
    """The browser session a logged-in user's socket was opened with (tickets, guests and
    anonymous visitors have none that counts)."""
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return None
    key = getattr(scope.get("session"), "session_key", None)
    return str(key) if key else None


SESSION_REFUSALS = {
    SessionState.IDLE: RoomDenied(CloseCode.UNAUTHENTICATED, Code.SESSION_EXPIRED),
    SessionState.GONE: RoomDenied(CloseCode.UNAUTHENTICATED, Code.LOGGED_OUT),
}


def session_refusal(session_key: str, *, activity: bool = False) -> RoomDenied | None:
    """The refusal of a socket whose session is idle or gone, read from the session store
    now; with `activity`, a frame a person sent, which stamps a live session."""
    state = session_seen(session_key) if activity else session_state(session_key)
    return SESSION_REFUSALS.get(state)


_session_refusal = database_sync_to_async(session_refusal)

# Frames a page sends by itself, on a timer, with nobody at the keyboard: not activity.
KEEPALIVE_FRAMES = frozenset({"ping"})


# No frame of any socket nests deeper than a few levels (a note's content, a candidate).
MAX_JSON_DEPTH = 32


def _depth(value: Any) -> int:
    """How deep `value` nests; iterative, so it cannot exhaust the stack itself."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json(text: str) -> Any:
    """A client frame's JSON, the one parse of every socket. Raises ValueError (the
    `malformed` refusal) for text that is not JSON or nests deeper than MAX_JSON_DEPTH:
    json.loads recurses per level, and 30,000 `[` (well under any frame limit) raised
    RecursionError, which closed the socket with 1011."""
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    if _depth(data) > MAX_JSON_DEPTH:
        raise ValueError("nested too deeply")
    return data


def frame_type(message: dict[str, Any]) -> str | None:
    """The `type` of the client frame a message carries, for an error frame's `ref`."""
    try:
        data = parse_json(message.get("text") or "")
    except ValueError:
        return None
    kind = data.get("type") if isinstance(data, dict) else None
    return kind[:64] if isinstance(kind, str) else None


class Guarded(FailureRule):
    """What both guards share: the consumer loop and the rule for service failures."""

    flood = RoomDenied(CloseCode.RATE_LIMITED, Code.RATE_LIMITED)
    flood_message = _("Too many frames; slow down.")

    closing = False
    session_key: str | None = None
    session_group: str | None = None
    touched_at = 0.0  # when a frame last had the session stamped (or checked), monotonic
    inbox: Inbox
    refused_with: int | None = None  # the close code of the guard's own refusal
    # Set by Channels' consumer classes, which come after this one in a guard's bases.
    _sync: bool
    channel_layer_alias: str
    channel_layer: Any
    channel_name: str
    scope: Any
    base_send: Any

    def guard_limits(self) -> Limits:
        raise NotImplementedError

    async def dispatch(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' `AsyncConsumer.__call__`, with the client read through the inbox and
        the channel-layer read through `_layer_read`: Channels lets a failed read escape
        its loop, which killed the consumer with a traceback before its disconnect ran."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.base_send = async_to_sync(send) if self._sync else send
        self.inbox = Inbox(receive, self.guard_limits())
        try:
            with metrics.socket_open(self):
                await await_many_dispatch([self.inbox, self._layer_read], self.dispatch)
        except StopConsumer:
            pass
        finally:
            self.inbox.close()

    async def _layer_read(self) -> dict[str, Any]:
        if self.layer_failed:
            await asyncio.Event().wait()  # until the loop ends: the socket is closing
        try:
            message: dict[str, Any] = await self.channel_layer.receive(self.channel_name)
        except LAYER_ERRORS as exc:
            self.layer_failed = True
            self.log_failure(exc, "the channel-layer read")
            return {"type": LAYER_LOST}
        return message

    def activity_due(self, message: dict[str, Any]) -> bool:
        """Whether this message is a person's frame that should stamp the session now: at
        most once per `touch_interval()` per socket, so the relay path almost never reads
        the frame twice or waits on the database for it."""
        if self.session_key is None or self.closing or message["type"] != "websocket.receive":
            return False
        now = time.monotonic()
        if now - self.touched_at < touch_interval():
            return False
        if frame_type(message) in KEEPALIVE_FRAMES:
            return False
        self.touched_at = now
        return True


class AsyncSocket(Guarded, AsyncWebsocketConsumer):
    """The guard for an async consumer: limits, error frames, refusals, session group."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        try:
            if self.activity_due(message):
                assert self.session_key is not None
                denied = await _session_refusal(self.session_key, activity=True)
                if denied is not None:
                    await self.deny(denied)
                    return
            await self.handle(message)
        except SERVICE_ERRORS as exc:
            answer = self.failure_answer(message, exc)
            if answer is Answer.STOP:
                raise StopConsumer from None
            if answer is Answer.REFUSE:
                await self.deny(UNAVAILABLE, UNAVAILABLE_MESSAGE)
            elif answer is Answer.ERROR and not self.closing:
                await self.error(Code.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE, frame_type(message))

    async def handle(self, message: dict[str, Any]) -> None:
        await AsyncWebsocketConsumer.dispatch(self, message)

    async def guard_layer_lost(self, event: dict[str, Any]) -> None:
        await self.deny(UNAVAILABLE, UNAVAILABLE_MESSAGE)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame))

    async def error(self, code: Code, message: Any, ref: str | None = None, **extra: Any) -> None:
        await self.send_frame(error_frame(code, message, ref, **extra))

    async def deny(self, denied: RoomDenied, message: Any = None, **extra: Any) -> None:
        """The `error` frame, then the close: the socket is refused or ended."""
        if self.closing:
            return
        self.closing = True
        self.refused_with = denied.close_code
        await self.error(denied.code, message or denied.code, **extra)
        await self.close(code=denied.close_code)

    async def guard_refused(self, event: dict[str, Any]) -> None:
        if event["code"] == Code.RATE_LIMITED:
            if not self.closing:
                await cooldown_start(self.scope)
            await self.deny(self.flood, self.flood_message, retry_after=cooldown_seconds())
        elif not self.closing:
            await self.error(Code.FRAME_TOO_LARGE, self.guard_limits().too_large)

    async def session_open(self) -> bool:
        """On connect, for a user logged in by a session cookie: refuse the socket if the
        session is idle or gone (False, the socket is closing), else join the session's
        group so that a logout ends it. True with nothing done for a socket without one."""
        self.session_key = _session_key(self.scope)
        if self.session_key is None:
            return True
        denied = await _session_refusal(self.session_key)
        if denied is not None:
            await self.deny(denied)
            return False
        self.session_group = session_group(self.session_key)
        await self.channel_layer.group_add(self.session_group, self.channel_name)
        return True

    async def session_recheck(self) -> bool:
        """The periodic re-check's part: still a live session? Else closed 4401."""
        if self.closing:
            return False
        if self.session_key is None:
            return True
        denied = await _session_refusal(self.session_key)
        if denied is not None:
            await self.deny(denied)
            return False
        return True

    async def guard_recheck(self, event: dict[str, Any]) -> None:
        await self.session_recheck()

    async def leave_session_group(self) -> None:
        if self.session_group:
            await self.group_discard(self.session_group)

    async def group_discard(self, group: str) -> None:
        """Leave a group on the way out. Never raises: a Redis that is away or restarted
        holds no membership to remove, and the disconnect handler must go on (presence)."""
        if self.layer_failed:
            return
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except LAYER_ERRORS as exc:
            self.layer_failed = True
            self.log_failure(exc, "the way out")

    async def session_ended(self, event: dict[str, Any]) -> None:
        await self.deny(RoomDenied(CloseCode.UNAUTHENTICATED, Code.LOGGED_OUT))


class SyncSocket(Guarded, JsonWebsocketConsumer):
    """The same guard for a sync consumer (its handlers run in Django's thread)."""

    @database_sync_to_async
    def dispatch(self, message: dict[str, Any]) -> None:
        """`SyncConsumer.dispatch`, with the guard's answer to a service failure, given
        in the handler's thread (a sync consumer sends from there)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        try:
            if self.activity_due(message):
                assert self.session_key is not None
                denied = session_refusal(self.session_key, activity=True)
                if denied is not None:
                    self.deny(denied)
                    return
            handler(message)
        except SERVICE_ERRORS as exc:
            answer = self.failure_answer(message, exc)
            if answer is Answer.STOP:
                raise StopConsumer from None
            if answer is Answer.REFUSE:
                self.deny(UNAVAILABLE, UNAVAILABLE_MESSAGE)
            elif answer is Answer.ERROR and not self.closing:
                self.error(Code.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE, frame_type(message))

    def guard_layer_lost(self, event: dict[str, Any]) -> None:
        self.deny(UNAVAILABLE, UNAVAILABLE_MESSAGE)

    def error(self, code: Code, message: Any, ref: str | None = None, **extra: Any) -> None:
        self.send_json(error_frame(code, message, ref, **extra))

    def deny(self, denied: RoomDenied, message: Any = None, **extra: Any) -> None:
        if self.closing:
            return
        self.closing = True
        self.refused_with = denied.close_code
        self.error(denied.code, message or denied.code, **extra)
        self.close(code=denied.close_code)

    def guard_refused(self, event: dict[str, Any]) -> None:
        if event["code"] == Code.RATE_LIMITED:
            if not self.closing:
                async_to_sync(cooldown_start)(self.scope)
            self.deny(self.flood, self.flood_message, retry_after=cooldown_seconds())
        elif not self.closing:
            self.error(Code.FRAME_TOO_LARGE, self.guard_limits().too_large)

    def session_open(self) -> bool:
        """As `AsyncSocket.session_open`."""
        self.session_key = _session_key(self.scope)
        if self.session_key is None:
            return True
        denied = session_refusal(self.session_key)
        if denied is not None:
            self.deny(denied)
            return False
        self.session_group = session_group(self.session_key)
        self.group_add(self.session_group)
        return True

    def session_recheck(self) -> bool:
        """As `AsyncSocket.session_recheck`."""
        if self.closing:
            return False
        if self.session_key is None:
            return True
        denied = session_refusal(self.session_key)
        if denied is not None:
            self.deny(denied)
            return False
        return True

    def guard_recheck(self, event: dict[str, Any]) -> None:
        self.session_recheck()

    def leave_session_group(self) -> None:
        if self.session_group:
            self.group_discard(self.session_group)

    def group_add(self, group: str) -> None:
        async_to_sync(self.channel_layer.group_add)(group, self.channel_name)

    def group_discard(self, group: str) -> None:
        """As `AsyncSocket.group_discard`: never raises."""
        if self.layer_failed:
            return
        try:
            async_to_sync(self.channel_layer.group_discard)(group, self.channel_name)
        except LAYER_ERRORS as exc:
            self.layer_failed = True
            self.log_failure(exc, "the way out")

    def session_ended(self, event: dict[str, Any]) -> None:
        self.deny(RoomDenied(CloseCode.UNAUTHENTICATED, Code.LOGGED_OUT))
