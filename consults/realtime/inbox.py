"""The socket's inbox: its frames read, sized and charged to the rate limit as they arrive
(consults.realtime.guard says why)."""

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from telehealth.codes import Code

REFUSED = "guard.refused"
RECHECK = "guard.recheck"


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
