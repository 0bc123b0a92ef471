"""One side of the weak-link test, run inside its own network namespace:

    ip netns exec <ns> python -m tests.e2e.weak_peer --socket … --consultation … --username …

The signaling server stays in the host's namespace and also listens on a Unix socket
(namespaces do not separate the file system); a local port relays to it, so the client speaks
plain HTTP and WebSocket to 127.0.0.1 while its media crosses only the veth pair.

Once its call is connected, every `--every` seconds the peer takes the room page's quality
sample from aiortc's statistics, hands it to the page's own quality.js (run by node, see
quality_driver.mjs) and applies the decision to its call. One JSON line per event on stdout;
a line (or EOF) on stdin makes it leave the room and exit.
"""

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from aiortc.codecs import vpx

from tests.support.rtc_client import RoomClient

ROOT = Path(__file__).resolve().parents[2]
QUALITY_JS = ROOT / "frontend/static/frontend/room/quality.js"
DRIVER = Path(__file__).with_name("quality_driver.mjs")
# Random texture around the luminance: VP8 then needs a real camera's bitrate.
NOISE = 48


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def relay_to(unix_socket: str) -> int:
    """A TCP port on this namespace's loopback that forwards to the server's Unix socket."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_unix_connection(unix_socket)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True
        )

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return int(server.sockets[0].getsockname()[1])


class PageLogic:
    """quality.js's `level` and `Fallback`, in a node process, one sample at a time."""

    async def start(self) -> "PageLogic":
        self.node = await asyncio.create_subprocess_exec(
            "node",
            str(DRIVER),
            str(QUALITY_JS),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return self

    async def decide(self, sample: dict[str, Any]) -> dict[str, Any]:
        assert self.node.stdin is not None
        assert self.node.stdout is not None
        self.node.stdin.write(json.dumps(sample).encode() + b"\n")
        await self.node.stdin.drain()
        decision: dict[str, Any] = json.loads(await self.node.stdout.readline())
        return decision

    async def stop(self) -> None:
        assert self.node.stdin is not None
        self.node.stdin.close()
        await self.node.wait()


# aiortc's VP8 encoder follows the receiver's REMB between its module's bounds (250 kbit/s to
# 1.5 Mbit/s) and has no sender parameters: this peer narrows the bounds to a browser's
# camera range, and the page's `max_bitrate` step lowers the ceiling.
VIDEO_FLOOR, VIDEO_CEILING = 100_000, 600_000


def clamp_video(ceiling: int | None = None) -> None:
    vpx.MIN_BITRATE, vpx.MAX_BITRATE = VIDEO_FLOOR, ceiling or VIDEO_CEILING
    vpx.DEFAULT_BITRATE = min(vpx.DEFAULT_BITRATE, vpx.MAX_BITRATE)


def apply(client: RoomClient, actions: list[dict[str, Any]]) -> None:
    for action in actions:
        if "audio_only" in action:
            client.set_audio_only(action["audio_only"])
            if not action["audio_only"]:
                # A browser's resumed track starts with a key frame; aiortc's encoder would
                # wait for the receiver's PLI, which a lossy link may take seconds to deliver.
                for link in client.links.values():
                    for sender in link.pc.getSenders():
                        if sender.kind == "video":
                            sender._RTCRtpSender__force_keyframe = True  # type: ignore[attr-defined]
        if "max_bitrate" in action:
            clamp_video(action["max_bitrate"])
            for link in client.links.values():
                for sender in link.pc.getSenders():
                    encoder = getattr(sender, "_RTCRtpSender__encoder", None)
                    if encoder is not None and hasattr(encoder, "target_bitrate"):
                        encoder.target_bitrate = vpx.MAX_BITRATE


async def measure(client: RoomClient, logic: PageLogic, every: float) -> None:
    try:
        await sample_forever(client, logic, every)
    except Exception as error:
        emit("error", error=repr(error))
        raise


async def watch_connected(client: RoomClient) -> None:
    """One `connected` line each time a call's ICE connects (a rebuilt call connects again)."""
    seen: set[int] = set()
    while True:
        for link in list(client.links.values()):
            if link.connected.is_set() and id(link) not in seen:
                seen.add(id(link))
                emit("connected", t=time.monotonic())
        await asyncio.sleep(0.05)


async def sample_forever(client: RoomClient, logic: PageLogic, every: float) -> None:
    previous: dict[str, Any] | None = None
    while True:
        await asyncio.sleep(every)
        connected = [(p, link) for p, link in client.links.items() if link.connected.is_set()]
        if not connected:
            continue
        peer, link = connected[0]
        sample = await client.quality_sample(peer, previous)
        audio = await audio_counts(link)
        previous = sample
        decision = await logic.decide(sample)
        apply(client, decision["actions"])
        emit(
            "sample",
            rtt_ms=sample["rtt_ms"],
            loss_pct=sample["loss_pct"],
            bitrate_kbps=sample["bitrate_kbps"],
            level=decision["level"],
            step=decision["step"],
            actions=decision["actions"],
            audio_only=client.audio_only,
            audio_frames=link.audio_frames,
            video_frames=link.frames,
            audio_received=audio["received"],
            audio_lost=audio["lost"],
            video_sending=not client.audio_only,
            t=time.monotonic(),
        )


async def audio_counts(link: Any) -> dict[str, int]:
    """The inbound audio's RTP packets received and lost: each lost 20 ms packet is what a
    browser conceals, so lost / (received + lost) is the concealed share aiortc can report
    (it has no concealment counters of its own)."""
    stats = (await link.pc.getStats()).values()
    audio = [s for s in stats if s.type == "inbound-rtp" and s.kind == "audio"]
    return {
        "received": sum(s.packetsReceived for s in audio),
        "lost": sum(max(0, s.packetsLost) for s in audio),
    }


async def main(args: argparse.Namespace) -> None:
    clamp_video()
    server = args.server or f"http://127.0.0.1:{await relay_to(args.socket)}"
    client = RoomClient(
        server,
        args.consultation,
        username=args.username,
        password=args.password,
        luminance=args.luminance,
        noise=NOISE,
    )
    logic = await PageLogic().start()
    await client.join()
    emit("joined", peer=client.welcome["peer"], t=time.monotonic())
    sampling = asyncio.ensure_future(measure(client, logic, args.every))
    watching = asyncio.ensure_future(watch_connected(client))
    await asyncio.to_thread(sys.stdin.readline)
    sampling.cancel()
    watching.cancel()
    await client.close()
    await logic.stop()
    emit("left")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", help="the server's Unix socket (relayed from 127.0.0.1)")
    parser.add_argument("--server", help="or the server's URL, reached over the network")
    parser.add_argument("--consultation", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--luminance", type=int, default=128)
    parser.add_argument("--every", type=float, default=1.0)
    asyncio.run(main(parser.parse_args()))
