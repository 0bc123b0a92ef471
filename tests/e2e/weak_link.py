"""A weak link between two network namespaces (iproute2), and the peers that run in them.

    ns a (station) 10.91.0.1/30 ── veth pair ── 10.91.0.2/30 ns b (specialist)

Each namespace sees only its end of the pair (and its own loopback), so ICE has one path:
the veth, whose queueing discipline (`tc`) makes the link weak. Namespace and device names
are random, so runs on one machine do not collide. Needs root.
"""

import json
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.e2e.servers import ARTIFACTS, ROOT

# The link: 300 ms round trip (150 ms each way), 5 % loss, 256 kbit/s.
NETEM = ["netem", "delay", "150ms", "loss", "5%", "rate", "256kbit"]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)


class WeakLink:
    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.ns = {"a": f"th-{tag}-a", "b": f"th-{tag}-b"}
        self.dev = {"a": f"th{tag}a", "b": f"th{tag}b"}
        self.addr = {"a": "10.91.0.1", "b": "10.91.0.2"}
        self.created: list[str] = []

    def create(self) -> str | None:
        """Build the link; return why the machine refused, or None."""
        for tool in ("ip", "tc"):
            if not shutil.which(tool):
                return f"`{tool}` (iproute2) is not installed"
        for ns in self.ns.values():
            done = _run("ip", "netns", "add", ns)
            if done.returncode:
                return f"`ip netns add` was refused: {done.stderr.strip()}"
            self.created.append(ns)
        a, b = self.dev["a"], self.dev["b"]
        pair = ("peer", "name", b, "netns", self.ns["b"])
        steps = [("ip", "link", "add", a, "netns", self.ns["a"], "type", "veth", *pair)]
        for side in ("a", "b"):
            ns, dev = self.ns[side], self.dev[side]
            steps += [
                ("ip", "-n", ns, "addr", "add", f"{self.addr[side]}/30", "dev", dev),
                ("ip", "-n", ns, "link", "set", dev, "up"),
                ("ip", "-n", ns, "link", "set", "lo", "up"),
            ]
        for step in steps:
            done = _run(*step)
            if done.returncode:
                return f"`{' '.join(step)}` was refused: {done.stderr.strip()}"
        return None

    def shape(self, qdisc: list[str]) -> str | None:
        """Put `qdisc` on both ends (both directions); return the kernel's refusal, or None."""
        for side in ("a", "b"):
            done = _run(
                "tc", "-n", self.ns[side], "qdisc", "replace", "dev", self.dev[side], "root", *qdisc
            )
            if done.returncode:
                return done.stderr.strip()
        return None

    def unshape(self) -> None:
        for side in ("a", "b"):
            _run("tc", "-n", self.ns[side], "qdisc", "del", "dev", self.dev[side], "root")

    def destroy(self) -> None:
        # Deleting a namespace deletes its end of the veth pair, and the pair with it.
        for ns in self.created:
            _run("ip", "netns", "del", ns)


class Peer:
    """`tests.e2e.weak_peer` in one namespace; its JSON lines are collected in `events`."""

    def __init__(self, namespace: str, *args: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.log_path = ARTIFACTS / f"weak-peer-{namespace}.log"
        self.events: list[dict[str, Any]] = []
        self.proc = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                namespace,
                sys.executable,
                "-m",
                "tests.e2e.weak_peer",
                *args,
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log_path.open("w"),
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.log_path.with_suffix(".jsonl").open("w") as kept:
            for line in self.proc.stdout:
                kept.write(line)
                self.events.append(json.loads(line))

    def first(self, event: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e["event"] == event), None)

    def samples(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == "sample"]

    def wait_for(self, predicate: Callable[["Peer"], Any], within: float, what: str) -> None:
        deadline = time.monotonic() + within
        while not predicate(self):
            errors = [e for e in self.events if e["event"] == "error"]
            if errors or self.proc.poll() is not None:
                raise AssertionError(f"peer stopped ({errors}); see {self.log_path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not within {within}s; last: {self.events[-3:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Ask the peer to leave the room (a `bye`), then make sure it is gone."""
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.write("\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=10)
