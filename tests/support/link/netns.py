"""The emulator's topology, built with iproute2 (needs root):

    station 10.92.1.1 ── veth ── 10.92.1.2 middle 10.92.2.2 ── veth ── 10.92.2.1 hospital
                                      │
                                 TUN (stage.py)

In the middle namespace every packet that arrives from either veth is routed (policy rule,
table 100) into the TUN device; the stage writes it back after shaping it and the main table
forwards it out of the other veth. Names carry a random tag so that runs do not collide.
"""

import json
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
STATION, HOSPITAL = "10.92.1.1", "10.92.2.1"
MIDDLE_TO_STATION, MIDDLE_TO_HOSPITAL = "10.92.1.2", "10.92.2.2"


class LinkRefused(RuntimeError):
    """The machine refused a step of building the link (not root, no netns, no TUN)."""


def run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode:
        raise LinkRefused(f"`{' '.join(command)}` was refused: {done.stderr.strip()}")
    return done.stdout


class Topology:
    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.ns = {side: f"tl-{tag}-{side}" for side in ("station", "middle", "hospital")}
        self.tun = f"tl{tag}"
        self.created: list[str] = []
        self.stage: subprocess.Popen[str] | None = None

    def exec_args(self, side: str, *command: str) -> list[str]:
        return ["ip", "netns", "exec", self.ns[side], *command]

    def network_args(self, side: str, *command: str) -> list[str]:
        """A process that plays the network (the stage, the calibration's probes) runs ahead
        of the peers: on a loaded machine its wake-ups would otherwise add to the delay."""
        return ["nice", "-n", "-10", *self.exec_args(side, *command)]

    def create(self) -> "Topology":
        if not shutil.which("ip"):
            raise LinkRefused("`ip` (iproute2) is not installed")
        if not Path("/dev/net/tun").exists():
            raise LinkRefused("/dev/net/tun is missing: the kernel has no TUN device")
        for ns in self.ns.values():
            run("ip", "netns", "add", ns)
            self.created.append(ns)
        st, mid, ho = self.ns["station"], self.ns["middle"], self.ns["hospital"]
        run("ip", "link", "add", "st0", "netns", st, "type", "veth", "peer", "ms0", "netns", mid)
        run("ip", "link", "add", "ho0", "netns", ho, "type", "veth", "peer", "mh0", "netns", mid)
        for ns, dev, addr in (
            (st, "st0", STATION),
            (mid, "ms0", MIDDLE_TO_STATION),
            (mid, "mh0", MIDDLE_TO_HOSPITAL),
            (ho, "ho0", HOSPITAL),
        ):
            run("ip", "-n", ns, "addr", "add", f"{addr}/30", "dev", dev)
            run("ip", "-n", ns, "link", "set", dev, "up")
            run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", st, "route", "add", "default", "via", MIDDLE_TO_STATION)
        run("ip", "-n", ho, "route", "add", "default", "via", MIDDLE_TO_HOSPITAL)
        self._start_stage()
        for key in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0"):
            run(*self.exec_args("middle", "sysctl", "-qw", key))
        run(*self.exec_args("middle", "sysctl", "-qw", f"net.ipv4.conf.{self.tun}.rp_filter=0"))
        run("ip", "-n", mid, "link", "set", self.tun, "up")
        run("ip", "-n", mid, "route", "add", "default", "dev", self.tun, "table", "100")
        for dev in ("ms0", "mh0"):
            run("ip", "-n", mid, "rule", "add", "iif", dev, "lookup", "100")
        return self

    def _start_stage(self) -> None:
        self.stage = subprocess.Popen(
            self.network_args(
                "middle",
                sys.executable,
                "-m",
                "tests.support.link.stage",
                "--dev",
                self.tun,
                "--uplink-prefix",
                HOSPITAL.rsplit(".", 1)[0],
            ),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self._answer() != "ready":
            raise LinkRefused("the TUN stage did not start (is /dev/net/tun usable here?)")

    def _answer(self) -> str:
        assert self.stage is not None
        assert self.stage.stdout is not None
        return self.stage.stdout.readline().strip()

    def _say(self, line: str) -> str:
        assert self.stage is not None
        assert self.stage.stdin is not None
        self.stage.stdin.write(line + "\n")
        self.stage.stdin.flush()
        return self._answer()

    def shape(self, up: dict[str, Any], down: dict[str, Any], outage: bool = False) -> None:
        """Shape both directions; `up` is the station's uplink."""
        answer = self._say(json.dumps({"up": up, "down": down, "outage": outage}))
        assert answer == "ok", answer

    def outage(self, on: bool) -> None:
        assert self._say(json.dumps({"outage": on})) == "ok"

    def counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = json.loads(self._say("counts"))
        return counts

    def destroy(self) -> None:
        if self.stage is not None and self.stage.poll() is None:
            self.stage.kill()
            self.stage.wait(timeout=10)
        # Deleting a namespace deletes its ends of the veth pairs, and the pairs with them.
        for ns in self.created:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
