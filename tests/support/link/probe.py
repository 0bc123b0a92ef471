"""The calibration's two ends, one per namespace (run with `ip netns exec`):

    python -m tests.support.link.probe echo --port P             (hospital side)
    python -m tests.support.link.probe measure --host H --port P --up-kbps U --down-kbps D

`echo` answers every datagram, counts what arrived per run and floods back on request;
`measure` prints one JSON line: round trip over 100 probes, loss each way over 1,000 packets
and throughput each way. Control messages are repeated until answered: they cross the same
lossy link as everything else.
"""

import argparse
import json
import socket
import statistics
import time
from typing import Any

RTT_PROBES, LOSS_PACKETS, FLOOD_SECONDS, FLOOD_SIZE = 100, 1000, 3.0, 1200


def echo(host: str, port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, port))
    print("ready", flush=True)
    runs: dict[str, dict[str, float]] = {}
    while True:
        data, peer = sock.recvfrom(65536)
        kind, run, rest = data.split(b" ", 2) if data.count(b" ") >= 2 else (data, b"", b"")
        seen = runs.setdefault(run.decode(), {"n": 0, "bytes": 0, "first": 0.0, "last": 0.0})
        now = time.monotonic()
        if kind in (b"rtt", b"loss"):
            seen["n"] += 1
            sock.sendto(data, peer)
        elif kind == b"flood":
            seen["n"] += 1
            seen["bytes"] += len(data) + 28  # with the IP and UDP headers, as on the wire
            seen["first"] = seen["first"] or now
            seen["last"] = now
        elif kind == b"ask":
            sock.sendto(b"told " + run + b" " + json.dumps(seen).encode(), peer)
        elif kind == b"pour":
            kbps = float(rest)
            sock.sendto(b"told " + run + b" {}", peer)
            pour(sock, peer, run, kbps)


def pour(sock: socket.socket, peer: Any, run: bytes, kbps: float) -> None:
    payload = b"flood " + run + b" " + b"x" * (FLOOD_SIZE - 28 - 8 - len(run))
    gap = (len(payload) + 28) * 8 / (kbps * 1000)
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < FLOOD_SECONDS:
        target = start + sent * gap
        if (wait := target - time.monotonic()) > 0:
            time.sleep(wait)
        sock.sendto(payload, peer)
        sent += 1


class Measure:
    def __init__(self, host: str, port: int) -> None:
        self.peer = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(self.peer)
        self.tag = str(time.monotonic_ns())

    def ask(self, kind: str, run: str, rest: str = "") -> dict[str, Any]:
        """Send a control message until its answer arrives (either may be lost)."""
        for _ in range(200):
            self.sock.send(f"{kind} {run} {rest}".encode())
            self.sock.settimeout(1.0)
            try:
                while True:
                    data = self.sock.recv(65536)
                    if data.startswith(f"told {run} ".encode()):
                        answer: dict[str, Any] = json.loads(data.split(b" ", 2)[2])
                        return answer
            except TimeoutError:
                continue
        raise TimeoutError(f"no answer to {kind} over the link")

    def drain(self, seconds: float) -> list[bytes]:
        got = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                got.append(self.sock.recv(65536))
            except TimeoutError:
                break
        return got

    def rtt_ms(self) -> tuple[float | None, int]:
        """Probes 20 ms apart, each timed from its own send: the link is not kept idle for a
        whole round trip per probe, and 100 probes fit in a few seconds."""
        run = f"{self.tag}r"
        sent: dict[bytes, float] = {}
        rtts: list[float] = []
        start = time.monotonic()
        for i in range(RTT_PROBES + 100):  # the last 100 slots (2 s) only wait for answers
            if i < RTT_PROBES:
                probe = f"rtt {run} {i}".encode()
                sent[probe] = time.monotonic()
                self.sock.send(probe)
            rtts += self._answers_until(sent, start + (i + 1) * 0.02)
            if i >= RTT_PROBES and not sent:
                break
        return (statistics.median(rtts) if rtts else None), len(rtts)

    def _answers_until(self, sent: dict[bytes, float], until: float) -> list[float]:
        """Round trips of the answers that arrive before `until`, each timed on arrival."""
        rtts = []
        while (left := until - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                break
            if data in sent:
                rtts.append((time.monotonic() - sent.pop(data)) * 1000)
        return rtts

    def loss(self) -> dict[str, float | None]:
        run = f"{self.tag}l"
        self.sock.setblocking(False)
        returned = 0
        for i in range(LOSS_PACKETS):
            self.sock.send(f"loss {run} {i}".encode())
            time.sleep(0.005)
            returned += self._count_pending(run)
        returned += sum(1 for d in self.drain(2.0) if d.startswith(f"loss {run}".encode()))
        arrived = self.ask("ask", run)["n"]
        return {
            "up": 1 - arrived / LOSS_PACKETS,
            "down": (1 - returned / arrived) if arrived else None,
        }

    def _count_pending(self, run: str) -> int:
        n = 0
        while True:
            try:
                if self.sock.recv(65536).startswith(f"loss {run}".encode()):
                    n += 1
            except BlockingIOError:
                return n

    def throughput_up(self, kbps: float) -> float | None:
        run = f"{self.tag}u"
        payload = f"flood {run} ".encode()
        payload += b"x" * (FLOOD_SIZE - 28 - len(payload))
        gap = FLOOD_SIZE * 8 / (kbps * 1000)
        start, sent = time.monotonic(), 0
        while time.monotonic() - start < FLOOD_SECONDS:
            if (wait := start + sent * gap - time.monotonic()) > 0:
                time.sleep(wait)
            self.sock.send(payload)
            sent += 1
        time.sleep(1.0)
        seen = self.ask("ask", run)
        return rate(seen["bytes"], seen["n"], seen["first"], seen["last"])

    def throughput_down(self, kbps: float) -> float | None:
        run = f"{self.tag}d"
        self.ask("pour", run, str(kbps))
        got = []
        deadline = time.monotonic() + FLOOD_SECONDS + 3
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                break
            if data.startswith(f"flood {run}".encode()):
                got.append((time.monotonic(), len(data) + 28))
        if len(got) < 2:
            return None
        return rate(sum(size for _, size in got), len(got), got[0][0], got[-1][0])


def rate(total_bytes: float, n: int, first: float, last: float) -> float | None:
    """kbit/s between the first and the last arrival (the first packet's bytes excluded)."""
    if n < 2 or last <= first:
        return None
    return (total_bytes * (n - 1) / n) * 8 / (last - first) / 1000


def measure(args: argparse.Namespace) -> None:
    m = Measure(args.host, args.port)
    rtt, answered = m.rtt_ms()
    out: dict[str, Any] = {"rtt_ms": rtt, "rtt_answered": answered}
    if args.rtt_only:
        print(json.dumps(out), flush=True)
        return
    out["loss"] = m.loss()
    out["up_kbps"] = m.throughput_up(args.up_kbps * 1.5)
    out["down_kbps"] = m.throughput_down(args.down_kbps * 1.5)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["echo", "measure"])
    parser.add_argument("--host", default="")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--up-kbps", type=float, default=1000)
    parser.add_argument("--down-kbps", type=float, default=1000)
    parser.add_argument("--rtt-only", action="store_true")
    args = parser.parse_args()
    echo(args.host, args.port) if args.mode == "echo" else measure(args)
