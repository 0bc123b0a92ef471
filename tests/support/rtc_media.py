"""Media for the Python WebRTC client (rtc_client): a synthetic camera, how a receiver
recognises it, and the room page's quality sample computed from aiortc's statistics."""

import asyncio
import os
import time
from typing import Any

import av
from aiortc import RTCPeerConnection, VideoStreamTrack

WIDTH, HEIGHT = 320, 240


class FlatVideoTrack(VideoStreamTrack):
    """Synthetic camera: frames of one mean luminance, so a receiver can tell who sent them.

    Flat frames cost VP8 about 12 kbit/s; `noise` (0–127) adds random texture around the
    luminance so the encoder needs a real camera's bitrate (aiortc's floor is 250 kbit/s).
    While `enabled` is False no frame is produced (the sender sends no video).
    """

    def __init__(self, luminance: int, noise: int = 0) -> None:
        super().__init__()
        self.luminance = luminance
        low = max(0, luminance - noise)
        self.texture = bytes(min(255, low + b % (2 * noise + 1)) for b in range(256))
        self.noise = noise
        self._enabled = asyncio.Event()
        self._enabled.set()

    @property
    def enabled(self) -> bool:
        return self._enabled.is_set()

    @enabled.setter
    def enabled(self, on: bool) -> None:
        if on:
            self._enabled.set()
        else:
            self._enabled.clear()

    async def recv(self) -> av.VideoFrame:
        if not self._enabled.is_set():
            paused = time.time()
            await self._enabled.wait()
            # Shift the track's clock past the pause, or it would catch up in a burst.
            if hasattr(self, "_start"):
                self._start += time.time() - paused
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(width=WIDTH, height=HEIGHT, format="yuv420p")
        for index, plane in enumerate(frame.planes):
            if index == 0 and self.noise:
                plane.update(os.urandom(plane.buffer_size).translate(self.texture))
            else:
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


LOSS_WINDOW = 6  # samples, as quality.js's WINDOW


async def stats_sample(
    pc: RTCPeerConnection, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The room page's quality sample (quality.js `sample`) from aiortc's `getStats()`.

    aiortc reports no ICE candidate pair, so the round trip comes from the RTCP receiver
    reports on what we send (the larger of audio's and video's); loss and bitrate are
    computed over what we receive, with the page's formulas (loss over the last
    `LOSS_WINDOW` samples, as quality.js's WINDOW).
    """
    stats = list((await pc.getStats()).values())
    rtts = [
        s.roundTripTime * 1000
        for s in stats
        if s.type == "remote-inbound-rtp" and s.roundTripTime is not None
    ]
    inbound = [s for s in stats if s.type == "inbound-rtp"]
    lost = sum(s.packetsLost for s in inbound)
    received = sum(s.packetsReceived for s in inbound)
    out: dict[str, Any] = {
        "rtt_ms": max(rtts) if rtts else None,
        "loss_pct": None,
        "bitrate_kbps": None,
        "bytes": sum(s.bytesReceived for s in stats if s.type == "transport"),
        "t": time.monotonic() * 1000,
    }
    window = [*(previous or {}).get("window", []), (lost, received)][-(LOSS_WINDOW + 1) :]
    out["window"] = window
    first = window[0] if len(window) > 1 else (0, 0)
    d_lost, d_received = max(0, lost - first[0]), received - first[1]
    if d_lost + d_received > 0:
        out["loss_pct"] = 100 * d_lost / (d_lost + d_received)
    if previous:
        elapsed = out["t"] - previous["t"]
        out["bitrate_kbps"] = max(0.0, (out["bytes"] - previous["bytes"]) * 8 / elapsed)
    return out
