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

Redis and the database may fail under a socket (docs/signaling.md "When Redis or the database
fails"). The guard runs Channels' consumer loop itself so that neither kills the consumer with
a traceback: a failed channel-layer read, or a `SERVICE_ERRORS` failure inside a handler, is
logged once and answered by the rule of `Guarded.failure_answer` (a refusal 4503, an `error`
frame, or, on the way out, nothing) and the disconnect handler still runs.
"""

import asyncio
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Any

from asgiref.sync import async_to_sync
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer, JsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _
from redis.exceptions import RedisError

from clinics.sessions import SessionState, session_seen, session_state, touch_interval
from consults.realtime.close import CloseCode, RoomDenied
from consults.realtime.events import error_frame
from consults.realtime.groups import session_group
from telehealth import metrics
from telehealth.codes import Code

log = logging.getLogger(__name__)

REFUSED = "guard.refused"
RECHECK = "guard.recheck"
LAYER_LOST = "guard.layer_lost"

# Redis away or restarting (redis-py's errors; the builtin ones where a socket fails under it).
LAYER_ERRORS: tuple[type[Exception], ...] = (RedisError, ConnectionError, TimeoutError)
# The database away: a terminated connection, a pool that lent none within its timeout
# ("couldn't get a connection after 3.00 sec"). Not IntegrityError or DataError: those are
# bugs, and stay loud.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
SERVICE_ERRORS = LAYER_ERRORS + DATABASE_ERRORS
UNAVAILABLE = RoomDenied(CloseCode.SERVICE_UNAVAILABLE, Code.SERVICE_UNAVAILABLE)
UNAVAILABLE_MESSAGE = _("The server is briefly unavailable; try again.")


class Answer(Enum):
    """What a failure of Redis or the database does to the socket."""

    REFUSE = "refuse"  # `error` service_unavailable, then close 4503: the client reconnects
    ERROR = "error"  # `error` service_unavailable for this frame; the socket stays open
    STOP = "stop"  # on the way out: logged, the consumer ends as it would have
    NOTHING = "nothing"  # a timer or a periodic re-check: logged, the next one tries again


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
            self.queue.appendleft({"type": REFUSED, "code": Code.RATE_LIMITED})
            self.ready.set()
            return
        if frame_bytes(message) > self.limits.max_frame_bytes:
            message = {"type": REFUSED, "code": Code.FRAME_TOO_LARGE}
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


class Guarded:
    """What both guards share: the consumer loop and the rule for service failures."""

    closing = False
    session_key: str | None = None
    session_group: str | None = None
    touched_at = 0.0  # when a frame last had the session stamped (or checked), monotonic
    inbox: Inbox
    refused_with: int | None = None  # the close code of the guard's own refusal
    layer_failed = False  # the channel layer failed under this socket: it is closing
    failure_logged = False
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

    def log_failure(self, exc: BaseException, during: str) -> None:
        """One line per socket, no traceback: an outage fails every socket of the process
        alike, and its cause is the service's, not this code's."""
        if self.failure_logged:
            return
        self.failure_logged = True
        log.warning(
            "%s failed during %s on %s: %s: %s",
            "Redis" if isinstance(exc, LAYER_ERRORS) else "The database",
            during,
            self.scope.get("path"),
            type(exc).__name__,
            exc,
        )

    def refuses_on_failure(self, message: dict[str, Any]) -> bool:
        """Whether a failure while handling this message refuses the socket: on connect
        (a consumer that does more before it is let in says so, as the room's `hello`)."""
        return message["type"] == "websocket.connect"

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

    def failure_answer(self, message: dict[str, Any], exc: BaseException) -> Answer:
        """docs/signaling.md "When Redis or the database fails": a socket that lost Redis
        is deaf to its groups, so it is refused whatever it was doing; a database failure
        refuses a socket being let in and answers a frame with an error; on the way out,
        nothing is owed (presence has a TTL)."""
        kind = message["type"]
        if isinstance(exc, LAYER_ERRORS):
            self.layer_failed = True
        self.log_failure(exc, kind)
        if kind == "websocket.disconnect":
            return Answer.STOP
        if self.layer_failed or self.refuses_on_failure(message):
            return Answer.REFUSE
        return Answer.ERROR if kind == "websocket.receive" else Answer.NOTHING


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

    async def error(self, code: Code, message: Any, ref: str | None = None) -> None:
        await self.send_frame(error_frame(code, message, ref))

    async def deny(self, denied: RoomDenied, message: Any = None) -> None:
        """The `error` frame, then the close: the socket is refused or ended."""
        if self.closing:
            return
        self.closing = True
        self.refused_with = denied.close_code
        await self.error(denied.code, message or denied.code)
        await self.close(code=denied.close_code)

    async def guard_refused(self, event: dict[str, Any]) -> None:
        if event["code"] == Code.RATE_LIMITED:
            denied = RoomDenied(CloseCode.RATE_LIMITED, Code.RATE_LIMITED)
            await self.deny(denied, _("Too many frames; slow down."))
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

    def deny(self, denied: RoomDenied, message: Any = None) -> None:
        if self.closing:
            return
        self.closing = True
        self.refused_with = denied.close_code
        self.error(denied.code, message or denied.code)
        self.close(code=denied.close_code)

    def guard_refused(self, event: dict[str, Any]) -> None:
        if event["code"] == Code.RATE_LIMITED:
            self.deny(
                RoomDenied(CloseCode.RATE_LIMITED, Code.RATE_LIMITED),
                _("Too many frames; slow down."),
            )
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
