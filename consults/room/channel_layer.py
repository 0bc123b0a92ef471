"""The Redis channel layer, without its per-process leak of undeliverable messages.

channels-redis reads every message for this process's channels from one Redis list and sorts
them into `receive_buffer`, one queue per channel. A message for a channel whose consumer has
already gone (a `room.replaced` sent to a socket that dropped, a presence event in flight
while its target closed, the room's own `joined` echo to a socket closed right after its
welcome) gets a queue there that nobody ever reads or deletes
(django/channels_redis#384, open): the soak in bench/ grew daphne's RSS by a third over
10,000 connections, one queue per connection.

Here a channel's buffer is dropped once nobody has been receiving on it for `expiry`
seconds: the same life an unread message has in Redis itself, so nothing a live consumer
would still get is lost (a consumer waits in `receive` between its messages).
"""

import time
from typing import Any

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer


class RedisChannelLayer(_RedisChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.receivers: dict[str, int] = {}  # local channel → receive() calls waiting on it
        self.idle_since: dict[str, float] = {}  # local channel → when its last receive ended
        self.swept_at = time.monotonic()

    async def receive(self, channel: str) -> Any:
        if "!" not in channel:  # a shared channel: read from Redis directly, nothing buffered
            return await super().receive(channel)
        self.receivers[channel] = self.receivers.get(channel, 0) + 1
        self.idle_since.pop(channel, None)
        try:
            return await super().receive(channel)
        finally:
            waiting = self.receivers.pop(channel) - 1
            if waiting:
                self.receivers[channel] = waiting
            else:
                self.idle_since[channel] = time.monotonic()
            self.sweep()

    def sweep(self, *, now: float | None = None) -> None:
        """Drop the buffers (and the bookkeeping) of channels idle for `expiry` seconds.
        Runs at most every `expiry / 2` seconds, so a buffer lives at most 1.5 × expiry."""
        now = time.monotonic() if now is None else now
        if now - self.swept_at < self.expiry / 2:
            return
        self.swept_at = now
        for channel in list(self.receive_buffer):
            if channel not in self.receivers:
                # A buffer for a channel never seen receiving here starts its clock now.
                self.idle_since.setdefault(channel, now)
        for channel, since in list(self.idle_since.items()):
            if now - since >= self.expiry:
                del self.idle_since[channel]
                self.receive_buffer.pop(channel, None)
