"""A real WebRTC participant in Python: logs in, joins a consult room through the signaling
server (docs/signaling.md) and sends synthetic media. Used by the end-to-end tests and bench/;
not part of the server, so it may use the dev-only `websockets`.

It behaves like the room page (frontend/static/frontend/room/): reconnects with jittered
backoff after a transport failure and starts fresh calls on the new connection, resyncs when
a `pong` shows a presence revision it missed, and can fall back to audio only.

aiortc has no trickle ICE and no ICE restart, so candidates travel inside the SDP and a
failed or renegotiated link is rebuilt as a new RTCPeerConnection.

Each call also opens a peer-to-peer data channel named "probe" (PROBE_CHANNEL): each side
sends one greeting on it, so a test can see the data path is up end to end. It is a test and
benchmark probe only: clinical chat never uses it. Chat goes through the server, which
authorizes, stores and audits every line (docs/notes.md); a peer-to-peer channel would skip
all three.
"""

import asyncio
import contextlib
import json
import random
import time
import urllib.error
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
)
from aiortc.mediastreams import AudioStreamTrack
from websockets.asyncio.client import connect

from consults.realtime.close import CloseCode
from tests.support.rtc_media import FlatVideoTrack, mean_luminance, stats_sample

__all__ = ["PROBE_CHANNEL", "NotWelcomed", "PeerLink", "RoomClient"]
# The peer-to-peer data channel of a call: a test probe, never clinical chat (see above).
PROBE_CHANNEL = "probe"
# Close codes after which the room page does not reconnect (docs/signaling.md): every
# application code but a rate limit, a heartbeat timeout and a service failure, and
# WebSocket's own 1009 (message too big).
FINAL_CLOSE_CODES = frozenset(CloseCode) - {
    CloseCode.RATE_LIMITED,
    CloseCode.TIMED_OUT,
    CloseCode.SERVICE_UNAVAILABLE,
} | {1009}


def retry_after_of(frame: dict[str, Any]) -> float:
    """The cool-down a 4429's `error` frame names, in seconds (0 if none)."""
    value = frame.get("retry_after") if frame.get("type") == "error" else None
    return float(value) if isinstance(value, int | float) else 0.0


class NotWelcomed(RuntimeError):
    """The server answered `hello` with something other than `welcome` (a refusal), and
    closed the socket with `close_code`; `retry_after`: the seconds it asked us to wait."""

    def __init__(self, message: str, close_code: int | None, retry_after: float = 0) -> None:
        super().__init__(message)
        self.close_code = close_code
        self.retry_after = retry_after


@dataclass
class PeerLink:
    """Our connection to one remote peer."""

    pc: RTCPeerConnection
    video: FlatVideoTrack
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    frames: int = 0
    audio_frames: int = 0
    luminance: float | None = None
    first_frame_at: float | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    probe: Any = None  # the call's probe data channel (PROBE_CHANNEL), once it exists


class RoomClient:
    def __init__(
        self,
        base_url: str,
        consultation_id: str,
        *,
        username: str,
        password: str,
        luminance: int = 128,
        noise: int = 0,
        audio: bool = True,
        reconnect: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.consultation_id = consultation_id
        self.username, self.password = username, password
        self.luminance, self.noise, self.audio = luminance, noise, audio
        self.reconnect = reconnect
        self.token: str | None = None
        self.ws: Any = None
        self.welcome: dict[str, Any] = {}
        self.welcomes = 0  # 1 + the number of successful reconnects
        self.links: dict[str, PeerLink] = {}
        self.polite: dict[str, bool] = {}  # our role toward each peer in the room
        self.probe_messages: list[str] = []  # what peers sent on the probe channel
        self.frames_in: list[dict[str, Any]] = []  # every frame after a welcome, all connections
        self.connection_start = 0  # where this connection's frames begin in `frames_in`
        self.closed_code: int | None = None
        self.closed_codes: list[int | None] = []
        self.reconnect_errors: list[str] = []
        self.seq = 0  # the last `seq` of this connection
        self.seq_gaps = 0
        self.last_rev = 0
        self.audio_only = False
        self.stopped = False
        self.joined_at = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._reconnecting: asyncio.Task[None] | None = None
        self.retry_after = 0.0  # from the last `rate_limited` error (docs/signaling.md)

    # --- HTTP ----------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any] | None, token: str | None) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Token {token}"} if token else {}),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
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
        """Open the socket and say hello (with a fresh ticket unless one is given).
        A new connection is a new peer: calls of an earlier connection are dropped, the
        peers already in the room will offer again (like the room page)."""
        ticket = ticket or await self.ticket()
        ws_url = self.base_url.replace("http", "ws", 1)
        self.joined_at = time.perf_counter()
        ws = await connect(
            f"{ws_url}/ws/consultations/{self.consultation_id}/",
            origin=self.base_url,  # type: ignore[arg-type]
            max_size=2**20,
        )
        await ws.send(json.dumps({"type": "hello", "ticket": ticket, "client": "rtc_client"}))
        welcome = json.loads(await ws.recv())
        if welcome.get("type") != "welcome":
            # The refusal's close follows its error frame (a bad `hello` is not closed).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ws.wait_closed(), 2)
            await ws.close()
            raise NotWelcomed(f"not welcomed: {welcome}", ws.close_code, retry_after_of(welcome))
        for task in self._tasks:
            task.cancel()
        for peer in list(self.links):
            await self._close_link(peer)
        self.ws, self.welcome, self.welcomes = ws, welcome, self.welcomes + 1
        self.connection_start = len(self.frames_in)
        self.seq, self.last_rev = welcome["seq"], welcome["rev"]
        self.polite = {p["peer"]: p["polite"] for p in welcome["peers"]}
        self._tasks = [
            asyncio.ensure_future(self._read(ws)),
            asyncio.ensure_future(self._heartbeat(ws)),
        ]
        return welcome

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
                self.retry_after = retry_after_of(frame) or self.retry_after
                if frame.get("seq") != self.seq + 1:
                    self.seq_gaps += 1
                self.seq = frame.get("seq", self.seq)
                await self.on_frame(frame)
        except Exception:  # noqa: S110 — a dropped socket ends the reader; reconnect decides
            pass
        finally:
            self.closed_code = ws.close_code
            self.closed_codes.append(ws.close_code)
        # Only a transport failure is retried; a refusal or a normal end is final.
        if self.reconnect and not self.stopped and ws.close_code not in FINAL_CLOSE_CODES:
            self._reconnecting = asyncio.ensure_future(self._reconnect())

    async def _reconnect(self) -> None:
        """Jittered exponential backoff, as the room page: 0.5 s, 1 s, 2 s … ≤ 15 s, ×(0.5–1.5)."""
        attempt, wait_at_least = 0, self.retry_after
        self.retry_after = 0.0
        while not self.stopped:
            delay = min(15.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.5)
            await asyncio.sleep(max(delay, wait_at_least))
            attempt, wait_at_least = attempt + 1, 0.0
            try:
                await self.join()
                return
            except NotWelcomed as refused:
                self.reconnect_errors.append(str(refused))
                wait_at_least = refused.retry_after
                if refused.close_code in FINAL_CLOSE_CODES:
                    return
            except urllib.error.HTTPError as error:
                self.reconnect_errors.append(f"HTTP {error.code}")
                if error.code < 500:
                    return
            except Exception as error:  # the server or its Redis is not back yet
                self.reconnect_errors.append(repr(error))

    async def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind in ("peer_joined", "peer_left"):
            self.last_rev = max(self.last_rev, frame["rev"])
        if kind == "peer_joined":
            self.polite[frame["peer"]] = frame["polite"]
            if not frame["polite"]:
                await self.call(frame["peer"])
        elif kind == "offer":
            await self._on_offer(frame)
        elif kind == "answer" and frame["from"] in self.links:
            await self.links[frame["from"]].pc.setRemoteDescription(
                RTCSessionDescription(sdp=frame["sdp"], type="answer")
            )
        elif kind == "peer_left":
            self.polite.pop(frame["peer"], None)
            await self._close_link(frame["peer"])
        elif kind == "pong" and frame["rev"] > self.last_rev:
            await self.send({"type": "resync"})  # a presence event did not reach us
        elif kind == "room":
            await self._on_snapshot(frame)
        elif kind == "restart" and not self.polite.get(frame["from"], True):
            await self.call(frame["from"])  # the impolite side re-offers on a fresh connection
        elif kind == "resync":
            await self._renegotiate(frame["peer"])

    async def _renegotiate(self, peer: str) -> None:
        """Frames from `peer` were lost: the impolite side offers again, the polite side asks."""
        if peer not in self.polite:
            return
        if self.polite[peer]:
            await self.send({"type": "restart", "to": peer})
        else:
            await self.call(peer)

    async def _on_snapshot(self, frame: dict[str, Any]) -> None:
        self.last_rev = frame["rev"]
        self.polite = {p["peer"]: p["polite"] for p in frame["peers"]}
        for peer in [p for p in self.links if p not in self.polite]:
            await self._close_link(peer)
        for peer, polite in self.polite.items():
            if not polite and peer not in self.links:
                await self.call(peer)

    # --- media -----------------------------------------------------------------------
    def _new_link(self, peer: str) -> PeerLink:
        servers = [
            RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in self.welcome.get("ice_servers", [])
        ]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        link = PeerLink(pc, FlatVideoTrack(self.luminance, self.noise))
        link.video.enabled = not self.audio_only
        self.links[peer] = link

        @pc.on("connectionstatechange")
        async def _state() -> None:
            if pc.connectionState == "connected":
                link.connected.set()

        @pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            link.tasks.append(asyncio.ensure_future(self._consume(link, track)))

        @pc.on("datachannel")
        def _channel(channel: Any) -> None:
            if channel.label == PROBE_CHANNEL:
                self._wire_probe(link, channel)

        pc.addTrack(link.video)
        if self.audio:
            pc.addTrack(AudioStreamTrack())
        return link

    def _wire_probe(self, link: PeerLink, channel: Any) -> None:
        link.probe = channel

        @channel.on("message")
        def _message(message: Any) -> None:
            self.probe_messages.append(str(message))

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
                if isinstance(frame, av.AudioFrame):
                    link.audio_frames += 1
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
        self._wire_probe(link, link.pc.createDataChannel(PROBE_CHANNEL))
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

    def set_audio_only(self, on: bool) -> None:
        """Stop (or resume) sending video on every call, as the room page's fallback does."""
        self.audio_only = on
        for link in self.links.values():
            link.video.enabled = not on

    async def quality_sample(
        self, peer: str, previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The room page's quality sample for the call with `peer` (see `stats_sample`)."""
        return await stats_sample(self.links[peer].pc, previous)

    # --- waiting helpers (for tests and benchmarks) ----------------------------------
    def connection_frames(self) -> list[dict[str, Any]]:
        """The frames received on the current connection after its welcome."""
        return self.frames_in[self.connection_start :]

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
        """Lose the socket without a goodbye (a cut link): the server sees 1006. No
        automatic reconnect follows; call `join()` to come back."""
        for task in self._tasks:
            task.cancel()
        self.ws.transport.abort()
        for peer in list(self.links):
            await self._close_link(peer)

    async def close(self) -> None:
        self.stopped = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        for task in self._tasks:
            task.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.send({"type": "bye"})
                await self.ws.close()
        for peer in list(self.links):
            await self._close_link(peer)
