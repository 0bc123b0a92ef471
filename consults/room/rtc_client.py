"""A real WebRTC participant in Python: logs in, joins a consult room through the signaling
server (docs/signaling.md) and sends synthetic media. Used by the end-to-end tests and bench/.

aiortc has no trickle ICE and no ICE restart, so candidates travel inside the SDP and a
failed or renegotiated link is rebuilt as a new RTCPeerConnection.
"""

import asyncio
import contextlib
import json
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import AudioStreamTrack

WIDTH, HEIGHT = 320, 240


class FlatVideoTrack(VideoStreamTrack):
    """Synthetic camera: flat frames of one luminance, so a receiver can tell who sent them."""

    def __init__(self, luminance: int) -> None:
        super().__init__()
        self.luminance = luminance

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(width=WIDTH, height=HEIGHT, format="yuv420p")
        for index, plane in enumerate(frame.planes):
            value = self.luminance if index == 0 else 128
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts, frame.time_base = pts, time_base
        return frame


def mean_luminance(frame: av.VideoFrame) -> float:
    """Mean of the Y plane over a few rows (row padding excluded)."""
    plane = frame.planes[0]
    data, stride = bytes(plane), plane.line_size
    rows = range(0, frame.height, max(1, frame.height // 16))
    sample = b"".join(data[r * stride : r * stride + frame.width] for r in rows)
    return sum(sample) / len(sample)


@dataclass
class PeerLink:
    """Our connection to one remote peer."""

    pc: RTCPeerConnection
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    frames: int = 0
    luminance: float | None = None
    first_frame_at: float | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class RoomClient:
    def __init__(
        self,
        base_url: str,
        consultation_id: str,
        *,
        username: str,
        password: str,
        luminance: int = 128,
        audio: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.consultation_id = consultation_id
        self.username, self.password = username, password
        self.luminance, self.audio = luminance, audio
        self.token: str | None = None
        self.ws: Any = None
        self.welcome: dict[str, Any] = {}
        self.links: dict[str, PeerLink] = {}
        self.messages: list[str] = []
        self.got_message = asyncio.Event()
        self.frames_in: list[dict[str, Any]] = []
        self.closed_code: int | None = None
        self.joined_at = 0.0
        self._tasks: list[asyncio.Task[None]] = []

    # --- HTTP ----------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any] | None, token: str | None) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 (our own server)
            self.base_url + path,
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Token {token}"} if token else {}),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            result: dict[str, Any] = json.loads(response.read())
            return result

    async def ticket(self) -> str:
        if self.token is None:
            body = {"username": self.username, "password": self.password}
            self.token = (await asyncio.to_thread(self._post, "/api/v1/auth/token/", body, None))[
                "token"
            ]
        path = f"/api/v1/consultations/{self.consultation_id}/room-ticket/"
        return str((await asyncio.to_thread(self._post, path, None, self.token))["ticket"])

    # --- signaling -------------------------------------------------------------------
    async def join(self, ticket: str | None = None) -> dict[str, Any]:
        """Open the socket and say hello (with a fresh ticket unless one is given)."""
        from websockets.asyncio.client import connect

        ticket = ticket or await self.ticket()
        ws_url = self.base_url.replace("http", "ws", 1)
        self.joined_at = time.perf_counter()
        self.ws = await connect(
            f"{ws_url}/ws/consultations/{self.consultation_id}/",
            origin=self.base_url,  # type: ignore[arg-type]
            max_size=2**20,
        )
        await self.send({"type": "hello", "ticket": ticket, "client": "rtc_client"})
        self.welcome = json.loads(await self.ws.recv())
        if self.welcome.get("type") != "welcome":
            raise RuntimeError(f"not welcomed: {self.welcome}")
        self._tasks = [
            asyncio.ensure_future(self._read(self.ws)),
            asyncio.ensure_future(self._heartbeat(self.ws)),
        ]
        return self.welcome

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def _heartbeat(self, ws: Any) -> None:
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(self.welcome.get("heartbeat_s", 10))
                await ws.send(json.dumps({"type": "ping", "t": time.time()}))

    async def _read(self, ws: Any) -> None:
        try:
            async for text in ws:
                frame = json.loads(text)
                self.frames_in.append(frame)
                await self.on_frame(frame)
        except Exception:  # noqa: S110 — a dropped socket ends the reader; the test decides
            pass
        finally:
            self.closed_code = ws.close_code

    async def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "peer_joined" and not frame["polite"]:
            await self.call(frame["peer"])
        elif kind == "offer":
            await self._on_offer(frame)
        elif kind == "answer" and frame["from"] in self.links:
            await self.links[frame["from"]].pc.setRemoteDescription(
                RTCSessionDescription(sdp=frame["sdp"], type="answer")
            )
        elif kind == "peer_left":
            await self._close_link(frame["peer"])
        elif kind in ("restart", "resync"):
            peer = frame.get("from") or frame.get("peer")
            polite = {p["peer"]: p["polite"] for p in self.welcome.get("peers", [])}
            if peer and not polite.get(peer, False):
                await self.call(peer)  # the impolite side re-offers on a fresh connection

    # --- media -----------------------------------------------------------------------
    def _new_link(self, peer: str) -> PeerLink:
        servers = [
            RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in self.welcome.get("ice_servers", [])
        ]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        link = PeerLink(pc)
        self.links[peer] = link

        @pc.on("connectionstatechange")
        async def _state() -> None:
            if pc.connectionState == "connected":
                link.connected.set()

        @pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                link.tasks.append(asyncio.ensure_future(self._consume(link, track)))

        @pc.on("datachannel")
        def _channel(channel: Any) -> None:
            self._wire_channel(channel)

        pc.addTrack(FlatVideoTrack(self.luminance))
        if self.audio:
            pc.addTrack(AudioStreamTrack())
        return link

    def _wire_channel(self, channel: Any) -> None:
        @channel.on("message")
        def _message(message: Any) -> None:
            self.messages.append(str(message))
            self.got_message.set()

        def hello() -> None:
            channel.send(f"hello from {self.welcome.get('role')}")

        if channel.readyState == "open":
            hello()
        else:
            channel.on("open", hello)

    async def _consume(self, link: PeerLink, track: MediaStreamTrack) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.VideoFrame):
                    continue
                link.frames += 1
                link.luminance = mean_luminance(frame)
                if link.first_frame_at is None:
                    link.first_frame_at = time.perf_counter()

    async def call(self, peer: str) -> None:
        """Offer to `peer` (we are impolite toward it): a fresh connection every time."""
        await self._close_link(peer)
        link = self._new_link(peer)
        self._wire_channel(link.pc.createDataChannel("chat"))
        await link.pc.setLocalDescription(await link.pc.createOffer())
        await self.send({"type": "offer", "to": peer, "sdp": link.pc.localDescription.sdp})

    async def _on_offer(self, frame: dict[str, Any]) -> None:
        peer = frame["from"]
        await self._close_link(peer)
        link = self._new_link(peer)
        await link.pc.setRemoteDescription(RTCSessionDescription(sdp=frame["sdp"], type="offer"))
        await link.pc.setLocalDescription(await link.pc.createAnswer())
        await self.send({"type": "answer", "to": peer, "sdp": link.pc.localDescription.sdp})

    async def _close_link(self, peer: str) -> None:
        link = self.links.pop(peer, None)
        if link is not None:
            for task in link.tasks:
                task.cancel()
            await link.pc.close()

    # --- waiting helpers (for tests and benchmarks) ----------------------------------
    def only_link(self) -> PeerLink:
        if len(self.links) != 1:
            raise LookupError(f"{len(self.links)} links")
        return next(iter(self.links.values()))

    async def wait_for(self, predicate: Any, within: float = 20) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(0.02)

    async def wait_frames(self, count: int = 5, within: float = 20) -> PeerLink:
        def ready() -> bool:
            return any(link.frames >= count for link in self.links.values())

        await self.wait_for(ready, within)
        return next(link for link in self.links.values() if link.frames >= count)

    # --- leaving ---------------------------------------------------------------------
    async def drop(self) -> None:
        """Lose the socket without a goodbye (a cut link): the server sees 1006."""
        for task in self._tasks:
            task.cancel()
        self.ws.transport.abort()
        for peer in list(self.links):
            await self._close_link(peer)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.send({"type": "bye"})
                await self.ws.close()
        for peer in list(self.links):
            await self._close_link(peer)
