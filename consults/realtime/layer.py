"""The Redis channel layer, without its per-process leak of undeliverable messages and without
losing a message when a receiving consumer leaves at the wrong moment.

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

The lost message: one `receive()` at a time pulls this process's messages from Redis for
every channel (BZPOPMIN, then ZADD of the message to a backup set until it is handed over).
When the consumer doing that pull leaves (its `receive` is cancelled) after Redis has popped
a message but before the reply was read, redis-py drops the connection and the message with
it: it is in neither set. Under connect/disconnect churn this lost about one directed message
in 3,000 on one daphne (a room's `offer` or `joined` that never arrives;
bench/RESULTS.md). Here the pull is shielded from that cancellation: it finishes on its own,
and whatever it took goes back to the channel's set for the next `receive`.
"""

import asyncio
import time
from functools import partial
from typing import Any

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer

# What the last pull took but had not handed over goes back to the channel (a crashed process
# leaves it in the backup set).
_RESTORE_BACKUP = """
local held = redis.call('ZRANGE', ARGV[2], 0, -1, 'WITHSCORES')
for i = 1, #held, 2 do
    redis.call('ZADD', ARGV[1], held[i + 1], held[i])
end
redis.call('DEL', ARGV[2])
"""
# A message popped for a receiver that has left goes back where it was, as it was.
_PUT_BACK = """
redis.call('ZADD', ARGV[1], ARGV[3], ARGV[2])
redis.call('EXPIRE', ARGV[1], ARGV[4])
"""


class RedisChannelLayer(_RedisChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.receivers: dict[str, int] = {}  # local channel → receive() calls waiting on it
        self.idle_since: dict[str, float] = {}  # local channel → when its last receive ended
        self.swept_at = time.monotonic()
        self.orphans: set[asyncio.Future[Any]] = set()  # pulls whose receiver left

    # channels-redis' own method and parameter names: this replaces its pull.
    async def _brpop_with_clean(self, index: int, channel: str, timeout: int) -> Any:  # noqa: ASYNC109
        """Pull one message of this process from Redis, keeping a copy in the backup set
        until it is handed over. The pop is shielded: if the receiver leaves while Redis'
        answer is on its way, the pop still completes and its message goes back to the
        channel (never to the backup set, whose oldest entry the next pull's clean-up
        removes as its own)."""
        connection = self.connection(index)
        backup = self._backup_channel_name(channel)
        await connection.eval(_RESTORE_BACKUP, 0, channel, backup)
        pop = asyncio.ensure_future(connection.bzpopmin(channel, timeout=timeout))
        try:
            popped = await asyncio.shield(pop)
        except asyncio.CancelledError:
            self.orphans.add(pop)
            pop.add_done_callback(partial(self._put_back, index, channel))
            raise
        if popped is None:
            return None
        _, member, score = popped
        await connection.zadd(backup, {member: float(score)})
        return member

    def _put_back(self, index: int, channel: str, pop: "asyncio.Future[Any]") -> None:
        self.orphans.discard(pop)
        if pop.cancelled() or pop.exception() is not None or pop.result() is None:
            return
        _, member, score = pop.result()
        put_back = asyncio.ensure_future(
            self.connection(index).eval(_PUT_BACK, 0, channel, member, score, self.expiry)
        )
        self.orphans.add(put_back)
        put_back.add_done_callback(self.orphans.discard)

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
