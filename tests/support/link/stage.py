"""The user-space stage of the link emulator, run inside the middle namespace:

    ip netns exec <middle> python -m tests.support.link.stage --dev <tun>

It creates the TUN device, prints `ready`, then reads packets the middle namespace routes into
it (policy routing, see netns.py), delays, drops or queues each one by the shape of its
direction and writes it back, where the kernel forwards it on. A direction's shape is one JSON
line on stdin, `{"up": {…}, "down": {…}, "outage": false}` (see `Shape`); each line is
acknowledged with `ok`. "up" is the station's uplink: packets to the hospital's subnet.

The kernel here has no sch_netem and no NFQUEUE, so delay has to be added in user space; the
loss and the rate limit live here too, so that one clock and one order apply to all three.
"""

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import random
import struct
import sys
from dataclasses import dataclass

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


@dataclass
class Shape:
    """One direction of the link. Loss is random (`loss`) or in bursts (Gilbert–Elliott:
    `burst` > 0 is the mean burst length in packets, every packet of a burst lost, bursts
    starting so that the mean loss is `loss`). Packets queue behind the rate limit; one that
    would wait more than `queue_ms` is dropped, like a router's tail drop."""

    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss: float = 0.0
    burst: float = 0.0
    rate_kbps: float = 0.0  # 0: unlimited
    queue_ms: float = 200.0


class Direction:
    def __init__(self) -> None:
        self.shape = Shape()
        self.busy_until = 0.0  # when the rate limiter's last queued packet has left
        self.last_delivery = 0.0  # packets are never reordered
        self.in_burst = False
        self.counts = {"in": 0, "lost": 0, "queue_drop": 0, "out": 0}

    def lose(self) -> bool:
        s = self.shape
        if s.burst > 0:
            leave = 1 / s.burst
            enter = leave * s.loss / (1 - s.loss) if s.loss < 1 else 1.0
            self.in_burst = random.random() < (1 - leave if self.in_burst else enter)
            return self.in_burst
        return random.random() < s.loss

    def delivery(self, now: float, size: int) -> float | None:
        """When a packet of `size` bytes arriving `now` leaves the stage, or None if dropped."""
        s = self.shape
        self.counts["in"] += 1
        if self.lose():
            self.counts["lost"] += 1
            return None
        departure = now
        if s.rate_kbps > 0:
            start = max(now, self.busy_until)
            if start - now > s.queue_ms / 1000:
                self.counts["queue_drop"] += 1
                return None
            departure = start + size * 8 / (s.rate_kbps * 1000)
            self.busy_until = departure
        jitter = random.uniform(-s.jitter_ms, s.jitter_ms) if s.jitter_ms else 0.0
        at = max(departure + (s.delay_ms + jitter) / 1000, self.last_delivery)
        self.last_delivery = at
        self.counts["out"] += 1
        return at


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class Stage:
    def __init__(self, fd: int, uplink_prefix: bytes) -> None:
        self.fd = fd
        self.uplink_prefix = uplink_prefix  # the first three bytes of the hospital's subnet
        self.up, self.down = Direction(), Direction()
        self.outage = False
        self.loop = asyncio.get_running_loop()

    def configure(self, line: str) -> None:
        config = json.loads(line)
        for key, direction in (("up", self.up), ("down", self.down)):
            if key in config:
                direction.shape = Shape(**config[key])
        self.outage = bool(config.get("outage", False))

    def on_readable(self) -> None:
        while True:
            try:
                packet = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            if len(packet) < 20 or packet[0] >> 4 != 4:
                continue  # IPv4 only: the namespaces have no other addresses
            if self.outage:
                continue
            direction = self.up if packet[16:19] == self.uplink_prefix else self.down
            at = direction.delivery(self.loop.time(), len(packet))
            if at is not None:
                self.loop.call_at(at, self.write, packet)

    def write(self, packet: bytes) -> None:
        # A full TUN queue loses the packet, as a real link would.
        with contextlib.suppress(OSError):
            os.write(self.fd, packet)


async def main(args: argparse.Namespace) -> None:
    fd = open_tun(args.dev)
    stage = Stage(fd, bytes(int(x) for x in args.uplink_prefix.split(".")))
    stage.loop.add_reader(fd, stage.on_readable)
    print("ready", flush=True)
    reader = asyncio.StreamReader()
    await stage.loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        if line.strip() == b"counts":
            print(json.dumps({"up": stage.up.counts, "down": stage.down.counts}), flush=True)
            continue
        stage.configure(line.decode())
        print("ok", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--dev", required=True)
    parser.add_argument("--uplink-prefix", required=True, help="e.g. 10.92.2")
    asyncio.run(main(parser.parse_args()))
