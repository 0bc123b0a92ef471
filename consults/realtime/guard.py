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
(`guard.recheck`).
"""

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncWebsocketConsumer, JsonWebsocketConsumer
from django.utils.translation import gettext_lazy as _

from consults.realtime.close import CloseCode, RoomDenied
from consults.realtime.events import error_frame
from consults.realtime.groups import session_group

REFUSED = "guard.refused"
RECHECK = "guard.recheck"
FRAME_TOO_LARGE = "frame_too_large"
RATE_LIMITED = "rate_limited"


class TokenBucket:
    """`burst` frames at once, refilled at `rate` frames per second."""

    def __init__(self, burst: float, rate: float) -> None:
        self.capacity, self.rate = burst, rate
        self.tokens, self.stamp = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass(frozen=True)
class Limits:
    """One socket's limits. `too_large` is the message of its `frame_too_large` error."""

    max_frame_bytes: int
    burst: float
    per_second: float
    too_large: Any
    recheck_seconds: float | None = None  # None: the consumer re-checks access its own way


def frame_bytes(message: dict[str, Any]) -> int:
    text = message.get("text")
    return len(text.encode()) if text is not None else len(message.get("bytes") or b"")


class Inbox:
    """The consumer's `receive`, read as frames arrive (see the module's docstring)."""

    def __init__(self, receive: Any, limits: Limits) -> None:
        self.receive = receive
        self.limits = limits
        self.bucket = TokenBucket(limits.burst, limits.per_second)
        self.queue: deque[dict[str, Any]] = deque()
        self.ready = asyncio.Event()
        self.failure: BaseException | None = None
        self.flooded = False
        # When the client last sent a frame, stamped on arrival: a socket whose consumer is
        # busy is not a silent one (the room's heartbeat, consults/room/heartbeat.py).
        self.last_frame_at = time.monotonic()
        self.tasks = [asyncio.ensure_future(self._pump())]
        if limits.recheck_seconds:
            self.tasks.append(asyncio.ensure_future(self._recheck(limits.recheck_seconds)))

    async def _pump(self) -> None:
        try:
            while True:
                self.arrived(await self.receive())
        except Exception as exc:  # handed to the consumer's next read
            self.failure = exc
            self.ready.set()

    async def _recheck(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            if not any(m["type"] == RECHECK for m in self.queue):
                self.put({"type": RECHECK})

    def arrived(self, message: dict[str, Any]) -> None:
        if message["type"] != "websocket.receive":
            self.put(message)
            return
        if self.flooded:
            return  # the socket is closing: what the flood still sends is dropped
        self.last_frame_at = time.monotonic()
        if not self.bucket.take():
            self.flooded = True
            self.queue = deque(
                m for m in self.queue if m["type"] not in ("websocket.receive", REFUSED)
            )
            self.queue.appendleft({"type": REFUSED, "code": RATE_LIMITED})
            self.ready.set()
            return
        if frame_bytes(message) > self.limits.max_frame_bytes:
            message = {"type": REFUSED, "code": FRAME_TOO_LARGE}
        self.put(message)

    def put(self, message: dict[str, Any]) -> None:
        self.queue.append(message)
        self.ready.set()

    async def __call__(self) -> dict[str, Any]:
        while not self.queue:
            if self.failure is not None:
                raise self.failure
            self.ready.clear()
            await self.ready.wait()
        return self.queue.popleft()

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()


def _session_group(scope: dict[str, Any]) -> str | None:
    key = getattr(scope.get("session"), "session_key", None)
    return session_group(key) if key else None


class AsyncSocket(AsyncWebsocketConsumer):
    """The guard for an async consumer: limits, error frames, refusals, session group."""

    closing = False
    session_group: str | None = None
    inbox: Inbox

    def guard_limits(self) -> Limits:
        raise NotImplementedError

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.inbox = Inbox(receive, self.guard_limits())
        try:
            await super().__call__(scope, self.inbox, send)
        finally:
            self.inbox.close()

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame))

    async def error(self, code: str, message: Any, ref: str | None = None) -> None:
        await self.send_frame(error_frame(code, message, ref))

    async def deny(self, denied: RoomDenied, message: Any = None) -> None:
        """The `error` frame, then the close: the socket is refused or ended."""
        if self.closing:
            return
        self.closing = True
        await self.error(denied.code, message or denied.code)
        await self.close(code=denied.close_code)

    async def guard_refused(self, event: dict[str, Any]) -> None:
        if event["code"] == RATE_LIMITED:
            denied = RoomDenied(CloseCode.RATE_LIMITED, RATE_LIMITED)
            await self.deny(denied, _("Too many frames; slow down."))
        elif not self.closing:
            await self.error(FRAME_TOO_LARGE, self.guard_limits().too_large)

    async def join_session_group(self) -> None:
        """For a socket authenticated by a session cookie (tickets and guests have none)."""
        self.session_group = _session_group(self.scope)
        if self.session_group:
            await self.channel_layer.group_add(self.session_group, self.channel_name)

    async def leave_session_group(self) -> None:
        if self.session_group:
            await self.channel_layer.group_discard(self.session_group, self.channel_name)

    async def session_ended(self, event: dict[str, Any]) -> None:
        await self.deny(RoomDenied(CloseCode.UNAUTHENTICATED, "logged_out"))


class SyncSocket(JsonWebsocketConsumer):
    """The same guard for a sync consumer (its handlers run in Django's thread)."""

    closing = False
    session_group: str | None = None
    inbox: Inbox

    def guard_limits(self) -> Limits:
        raise NotImplementedError

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.inbox = Inbox(receive, self.guard_limits())
        try:
            await super().__call__(scope, self.inbox, send)
        finally:
            self.inbox.close()

    def error(self, code: str, message: Any, ref: str | None = None, **extra: Any) -> None:
        self.send_json(error_frame(code, message, ref, **extra))

    def deny(self, denied: RoomDenied, message: Any = None) -> None:
        if self.closing:
            return
        self.closing = True
        self.error(denied.code, message or denied.code)
        self.close(code=denied.close_code)

    def guard_refused(self, event: dict[str, Any]) -> None:
        if event["code"] == RATE_LIMITED:
            self.deny(
                RoomDenied(CloseCode.RATE_LIMITED, RATE_LIMITED), _("Too many frames; slow down.")
            )
        elif not self.closing:
            self.error(FRAME_TOO_LARGE, self.guard_limits().too_large)

    def join_session_group(self) -> None:
        self.session_group = _session_group(self.scope)
        if self.session_group:
            self.group_add(self.session_group)

    def leave_session_group(self) -> None:
        if self.session_group:
            self.group_discard(self.session_group)

    def group_add(self, group: str) -> None:
        async_to_sync(self.channel_layer.group_add)(group, self.channel_name)

    def group_discard(self, group: str) -> None:
        async_to_sync(self.channel_layer.group_discard)(group, self.channel_name)

    def session_ended(self, event: dict[str, Any]) -> None:
        self.deny(RoomDenied(CloseCode.UNAUTHENTICATED, "logged_out"))
