"""The Redis channel layer keeps a message whose receiver left in the middle of pulling it
(consults/realtime/layer.py), against real Redis through a proxy that can hold Redis'
replies: the moment between Redis popping the message and the client reading it is made to
last, and the receiving consumer leaves inside it."""

import asyncio
import contextlib
from typing import Any

import pytest
from django.conf import settings

from consults.realtime.layer import RedisChannelLayer

pytestmark = [pytest.mark.redis]


class HoldingProxy:
    """TCP between the layer and Redis; `hold` keeps Redis' bytes from reaching the layer."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.hold = asyncio.Event()  # set: Redis → client bytes wait
        self.released = asyncio.Event()
        self.released.set()
        self.to_redis = bytearray()
        self.pulling = asyncio.Event()  # the layer sent its blocking pop
        self.holding = asyncio.Event()  # a reply from Redis is being held
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in self.tasks:
            task.cancel()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        for pump in (self._up(reader, up_writer), self._down(up_reader, writer)):
            task = asyncio.ensure_future(pump)
            self.tasks.add(task)

    async def _up(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            self.to_redis += data
            if b"BZPOPMIN" in self.to_redis.upper():
                self.pulling.set()
            writer.write(data)
            await writer.drain()
        writer.close()

    async def _down(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            if self.hold.is_set():
                self.holding.set()
                await self.released.wait()
            writer.write(data)
            await writer.drain()
        writer.close()


def _host(port: int | None = None) -> dict[str, Any]:
    """The test Redis (or the proxy in front of it), read as settings.py reads it: a socket
    timeout longer than the layer's 5 s blocking pop."""
    url = settings.REDIS_URL
    if port is not None:
        db = url.rsplit("/", 1)[1] if url.count("/") > 2 else "0"
        url = f"redis://127.0.0.1:{port}/{db}"
    return {"address": url, "socket_timeout": 30}


async def test_a_message_popped_as_its_puller_leaves_reaches_the_next_receive() -> None:
    host, port = "127.0.0.1", int(settings.REDIS_URL.split(":")[2].split("/")[0])
    proxy = HoldingProxy(host, port)
    layer = RedisChannelLayer(hosts=[_host(await proxy.start())])
    sender = RedisChannelLayer(hosts=[_host()], prefix=layer.prefix)
    channel = await layer.new_channel()
    try:
        pulling = asyncio.ensure_future(layer.receive(channel))
        await asyncio.wait_for(proxy.pulling.wait(), 5)
        proxy.hold.set()
        proxy.released.clear()
        await sender.send(channel, {"type": "room.relay", "n": 1})
        await asyncio.wait_for(proxy.holding.wait(), 5)  # Redis popped it; the reply waits
        pulling.cancel()  # the consumer that was pulling for the process leaves
        with contextlib.suppress(asyncio.CancelledError):
            await pulling
        proxy.hold.clear()
        proxy.released.set()

        message = await asyncio.wait_for(layer.receive(channel), 10)

        assert message == {"type": "room.relay", "n": 1}
    finally:
        await sender.flush()  # the same prefix: the test's keys
        await proxy.stop()
