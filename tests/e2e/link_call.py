"""A call across the link emulator (tests/support/link/): the station's aiortc peer in the
station namespace, the specialist's in the hospital namespace, daphne in the host's namespace
behind a relay on the hospital's address. Helpers for tests/e2e/test_link_emulator.py."""

import itertools
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.e2e.servers import ARTIFACTS, ROOT
from tests.e2e.weak_link import Peer
from tests.support.link.netns import HOSPITAL, Topology

RELAY_PORT = 8000


@contextmanager
def hospital_relay(topology: Topology, unix_socket: Path) -> Iterator[str]:
    """The server's URL as both peers reach it: the relay on the hospital's address."""
    relay = subprocess.Popen(
        topology.exec_args(
            "hospital",
            sys.executable,
            "-m",
            "tests.support.link.relay",
            "--host",
            HOSPITAL,
            "--port",
            str(RELAY_PORT),
            "--unix",
            str(unix_socket),
        ),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert relay.stdout is not None
        assert relay.stdout.readline().strip() == "ready", "the hospital relay did not start"
        yield f"http://{HOSPITAL}:{RELAY_PORT}"
    finally:
        relay.kill()
        relay.wait(timeout=10)


def start_peers(topology: Topology, server: str, consultation: str, password: str) -> list[Peer]:
    common = ["--server", server, "--consultation", consultation, "--password", password]
    specialist = Peer(
        topology.ns["hospital"], *common, "--username", "specialist", "--luminance", "60"
    )
    station = Peer(topology.ns["station"], *common, "--username", "nurse", "--luminance", "200")
    return [station, specialist]


def since(peer: Peer, t: float) -> list[dict[str, Any]]:
    return [s for s in peer.samples() if s["t"] >= t]


def audio_every_second(samples: list[dict[str, Any]]) -> bool:
    """Audio packets arrived between every two consecutive samples (one a second)."""
    counts = [s["audio_received"] for s in samples]
    return len(counts) > 1 and all(b > a for a, b in itertools.pairwise(counts))


def concealed_ratio(samples: list[dict[str, Any]]) -> float:
    """Lost audio packets over the samples' span: what a receiver has to conceal."""
    first, last = samples[0], samples[-1]
    lost = last["audio_lost"] - first["audio_lost"]
    got = last["audio_received"] - first["audio_received"]
    return lost / (lost + got) if lost + got else 0.0


def record(name: str, figures: dict[str, Any]) -> None:
    """Kept in artifacts/ for bench/RESULTS.md (never committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "link-results.jsonl").open("a") as out:
        out.write(json.dumps({"test": name, "at": time.time(), **figures}) + "\n")
