"""F1, the bare floor of the signaling relay: the same hops as the app's room (client →
process 1 → Redis → process 2 → client) without Channels, daphne or Django — a plain
`websockets` server relaying through Redis pub/sub. Started twice by bench/room_relay.py:

    REDIS_URL=redis://… .venv/bin/python bench/relay_f1.py PORT

Protocol, as the F2 floor's (bench/room_asgi.py): on connect the server sends
`{"me": <id>}`; a frame `{"to": <id>, …}` is published, as sent, to that socket's channel,
and whichever process holds the socket forwards it. One pub/sub connection per process,
one channel per socket.
"""

import asyncio
import json
import os
import sys
import uuid
from typing import Any

import redis.asyncio as aioredis
from websockets.asyncio.server import ServerConnection, serve

PREFIX = "bench-f1:"


class Relay:
    def __init__(self, url: str) -> None:
        self.redis = aioredis.Redis.from_url(url)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.sockets: dict[str, ServerConnection] = {}

    async def handler(self, ws: ServerConnection) -> None:
        me = uuid.uuid4().hex
        channel = PREFIX + me
        self.sockets[channel] = ws
        await self.pubsub.subscribe(channel)
        try:
            await ws.send(json.dumps({"me": me}))
            async for text in ws:
                to = json.loads(text).get("to")
                if to:
                    await self.redis.publish(PREFIX + to, text)
        finally:
            del self.sockets[channel]
            await self.pubsub.unsubscribe(channel)

    async def forward(self) -> None:
        while True:
            if not self.pubsub.subscribed:  # get_message refuses before the first socket
                await asyncio.sleep(0.01)
                continue
            message: Any = await self.pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            ws = self.sockets.get(message["channel"].decode())
            if ws is not None:
                await ws.send(message["data"].decode())


async def main(port: int) -> None:
    relay = Relay(os.environ["REDIS_URL"])
    async with serve(relay.handler, "127.0.0.1", port, max_size=2**20):
        print("ready", flush=True)
        await relay.forward()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
