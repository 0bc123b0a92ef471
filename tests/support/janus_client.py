"""A Python VideoRoom participant for the conference tests: Janus's HTTP API (long polls in
the client's own threads) and aiortc peer connections, one to publish, one per subscribed feed.

It decodes what it receives: `frames[feed]` counts audio and video frames per remote feed.
"""

import asyncio
import contextlib
import secrets
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaStreamTrack
from aiortc.mediastreams import AudioStreamTrack

from tests.support.rtc_media import FlatVideoTrack


class JanusRefused(RuntimeError):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code


@dataclass
class Subscription:
    feed: int
    handle: int
    pc: RTCPeerConnection
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class JanusPeer:
    def __init__(self, url: str, token: str | None, feed: int, display: str) -> None:
        self.url, self.token, self.feed, self.display = url, token, feed, display
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix=f"janus-{display}")
        self.http = requests.Session()
        self.session: int | None = None
        self.publisher: int | None = None
        self.room: int | None = None
        self.pc: RTCPeerConnection | None = None
        self.video = FlatVideoTrack(luminance=40 + secrets.randbelow(160), noise=8)
        self.audio = AudioStreamTrack()
        self.events: dict[int, asyncio.Queue[dict[str, Any]]] = defaultdict(asyncio.Queue)
        self.log: list[dict[str, Any]] = []  # every event, in order
        self.poll_refused: JanusRefused | None = None
        self.subscriptions: dict[int, Subscription] = {}
        self.frames: dict[int, dict[str, int]] = defaultdict(lambda: {"audio": 0, "video": 0})
        self._poller: asyncio.Task[None] | None = None

    # --- Janus API ------------------------------------------------------------------------

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {"transaction": secrets.token_hex(6), **body}
        if self.token is not None:
            body["token"] = self.token
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(
            self.executor, lambda: self.http.post(self.url + path, json=body, timeout=10)
        )
        reply: dict[str, Any] = answer.json()
        if reply.get("janus") == "error":
            raise JanusRefused(reply["error"].get("code"), reply["error"].get("reason", ""))
        return reply

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        params = {"maxev": "10", **({"token": self.token} if self.token else {})}
        while True:
            answer = await loop.run_in_executor(
                self.executor,
                lambda: self.http.get(f"{self.url}/{self.session}", params=params, timeout=40),
            )
            batch = answer.json()
            for event in batch if isinstance(batch, list) else [batch]:
                if event.get("janus") == "error":
                    self.poll_refused = JanusRefused(
                        event["error"].get("code"), event["error"].get("reason", "")
                    )
                    return
                if event.get("janus") == "keepalive":
                    continue
                self.log.append(event)
                if "sender" in event:
                    self.events[event["sender"]].put_nowait(event)

    async def _message(
        self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> None:
        request: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        await self._call(f"/{self.session}/{handle}", request)

    async def _event(self, handle: int, within: float = 20) -> dict[str, Any]:
        """The next plugin event (or hangup) on `handle`; a plugin error raises."""
        while True:
            event = await asyncio.wait_for(self.events[handle].get(), within)
            if event.get("janus") == "event":
                data = event["plugindata"]["data"]
                if "error_code" in data:
                    raise JanusRefused(data["error_code"], data.get("error", ""))
                return event
            if event.get("janus") == "hangup":
                return event

    async def _attach(self) -> int:
        reply = await self._call(
            f"/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"}
        )
        return int(reply["data"]["id"])

    # --- the participant ------------------------------------------------------------------

    async def connect(self) -> None:
        reply = await self._call("", {"janus": "create"})
        self.session = int(reply["data"]["id"])
        self._poller = asyncio.create_task(self._poll())

    async def join(self, room: int) -> list[int]:
        """Join as a publisher with the app-assigned feed id and publish audio+video; the
        feeds already publishing."""
        self.room = room
        self.publisher = await self._attach()
        await self._message(
            self.publisher,
            {
                "request": "join",
                "ptype": "publisher",
                "room": room,
                "id": self.feed,
                "display": self.display,
                "token": self.token,
            },
        )
        joined = (await self._event(self.publisher))["plugindata"]["data"]
        self.pc = RTCPeerConnection()
        self.pc.addTrack(self.audio)
        self.pc.addTrack(self.video)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = self.pc.localDescription
        await self._message(
            self.publisher,
            {"request": "publish", "audio": True, "video": True},
            {"type": offer.type, "sdp": offer.sdp},
        )
        while True:
            event = await self._event(self.publisher)
            if "jsep" in event:
                break
        await self.pc.setRemoteDescription(RTCSessionDescription(**event["jsep"]))

        # Others can subscribe once Janus has the media up.
        def up(event: dict[str, Any]) -> bool:
            return event.get("janus") == "webrtcup" and event.get("sender") == self.publisher

        await self.wait_for(lambda: self.saw(up))
        return [int(p["id"]) for p in joined.get("publishers", [])]

    async def subscribe(self, feed: int) -> Subscription:
        handle = await self._attach()
        await self._message(
            handle,
            {
                "request": "join",
                "ptype": "subscriber",
                "room": self.room,
                "streams": [{"feed": feed}],
                "token": self.token,
            },
        )
        while True:
            event = await self._event(handle)
            if "jsep" in event:
                break
        pc = RTCPeerConnection()
        subscription = Subscription(feed=feed, handle=handle, pc=pc)

        @pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            subscription.tasks.append(asyncio.create_task(self._consume(feed, track)))

        await pc.setRemoteDescription(RTCSessionDescription(**event["jsep"]))
        await pc.setLocalDescription(await pc.createAnswer())
        answer = pc.localDescription
        await self._message(handle, {"request": "start"}, {"type": answer.type, "sdp": answer.sdp})
        self.subscriptions[feed] = subscription
        return subscription

    async def _consume(self, feed: int, track: MediaStreamTrack) -> None:
        with contextlib.suppress(Exception):
            while True:
                await track.recv()
                self.frames[feed][track.kind] += 1

    def saw(self, predicate: Any) -> bool:
        return any(predicate(event) for event in self.log)

    async def wait_for(self, predicate: Any, within: float = 30) -> None:
        """Poll `predicate` (frame counters and event logs have no event to await)."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        for subscription in self.subscriptions.values():
            for task in subscription.tasks:
                task.cancel()
            await subscription.pc.close()
        if self.pc is not None:
            await self.pc.close()
        if self.session is not None and self.poll_refused is None:
            with contextlib.suppress(Exception):
                await self._call(f"/{self.session}", {"janus": "destroy"})
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(BaseException):
                await self._poller
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.http.close()
