"""The pre-call test peer (/ws/precall/): a server-side aiortc peer that echoes the browser's
camera and microphone and answers data-channel pings, through the room's frame format.

Bounded: at most ROOM_PRECALL_MAX concurrent tests per process, each at most
ROOM_PRECALL_SECONDS long. aiortc has no trickle ICE: the page sends a complete offer.
"""

import asyncio
import secrets
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from django.conf import settings
from django.utils.translation import gettext_lazy

from consults.realtime.close import CloseCode, RoomDenied
from consults.realtime.guard import AsyncSocket, Limits
from consults.room import protocol
from consults.room.turn import ice_servers_for
from telehealth.codes import Code

ECHO_PEER = "echo"
_active: set["PrecallConsumer"] = set()


def _ice(peer: str) -> RTCConfiguration:
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in ice_servers_for(peer)
        ]
    )


class PrecallConsumer(AsyncSocket):
    pc: RTCPeerConnection | None = None
    peer = ""

    def guard_limits(self) -> Limits:
        return Limits(
            max_frame_bytes=settings.ROOM_MAX_FRAME_BYTES,
            burst=settings.ROOM_RATE_BURST,
            per_second=settings.ROOM_RATE_PER_SECOND,
            too_large=gettext_lazy("Frames are limited to 64 KiB."),
        )

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.deny(RoomDenied(CloseCode.UNAUTHENTICATED, Code.NOT_AUTHENTICATED))
            return
        if len(_active) >= settings.ROOM_PRECALL_MAX:
            await self.deny(RoomDenied(CloseCode.NOT_JOINABLE, Code.BUSY))
            return
        _active.add(self)
        self.relay = MediaRelay()
        self.limit = asyncio.get_running_loop().call_later(
            settings.ROOM_PRECALL_SECONDS, self._time_up
        )

    def _time_up(self) -> None:
        self.inbox.put({"type": "precall.time_up"})

    async def precall_time_up(self, event: dict[str, Any]) -> None:
        await self.close(code=1000)

    async def disconnect(self, code: int) -> None:
        _active.discard(self)
        if hasattr(self, "limit"):
            self.limit.cancel()
        if self.pc is not None:
            await self.pc.close()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            data, _spec = protocol.parse_frame(text_data)
        except protocol.ProtocolError as exc:
            await self.error(exc.code, exc.message, exc.ref)
            return
        kind = data["type"]
        if kind == "hello" and not self.peer:
            self.peer = "p-" + secrets.token_urlsafe(16)
            await self.send_frame(
                {
                    "type": "welcome",
                    "peer": self.peer,
                    "role": "precall",
                    "polite": False,
                    "peers": [{"peer": ECHO_PEER, "role": "echo", "name": "echo", "polite": False}],
                    "ice_servers": ice_servers_for(self.peer),
                    "heartbeat_s": settings.ROOM_HEARTBEAT_SECONDS,
                }
            )
        elif kind == "offer" and self.peer and data["to"] == ECHO_PEER:
            await self.answer(data["sdp"])
        elif kind == "ping":
            await self.send_frame({"type": "pong", "t": data.get("t")})
        elif kind == "bye":
            await self.close(code=1000)
        elif kind != "candidate":  # candidates travel in the complete offer
            await self.error(Code.NOT_ALLOWED, "", kind)

    async def answer(self, sdp: str) -> None:
        if self.pc is not None:
            await self.pc.close()
        pc = self.pc = RTCPeerConnection(_ice(self.peer))

        @pc.on("track")
        def _echo(track: MediaStreamTrack) -> None:
            pc.addTrack(self.relay.subscribe(track))

        @pc.on("datachannel")
        def _channel(channel: Any) -> None:
            @channel.on("message")
            def _pong(message: Any) -> None:
                if isinstance(message, str) and message.startswith("ping"):
                    channel.send("pong" + message[4:])

        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.send_frame(
            {"type": "answer", "from": ECHO_PEER, "sdp": pc.localDescription.sdp, "pseq": 1}
        )
