"""A call over a weak link: two aiortc peers in separate network namespaces joined by a veth
pair (tests/e2e/weak_link.py), the signaling server in the host's namespace.

The call connects across the clean veth and the room page's quality logic rates it good. Then
`tc` makes the link weak, in both directions: the rating drops to poor, the page's fallback
engages (first its video cap, then audio only), both peers stop sending video, and audio keeps
arriving. The rating and the fallback are the page's own code: each peer feeds its getStats
sample, in the page's shape, to frontend/static/frontend/room/quality.js run by node
(tests/e2e/quality_driver.mjs) and applies the decisions to its call.

The link is netem's: 300 ms round trip, 5 % loss, 256 kbit/s. This is the additional variant
for a kernel that has sch_netem; one without it refuses the qdisc, and the test skips with the
kernel's answer (a precise check of that one feature). The same link is tested everywhere by
tests/e2e/test_link_emulator.py, which needs no netem (a user-space TUN stage).
"""

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from consults.room.models import RoomPeer
from tests.e2e.conftest import PASSWORD
from tests.e2e.servers import Daphne
from tests.e2e.weak_link import NETEM, Peer, WeakLink

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Good, or fair when the machine is so busy that the round trip measured on the clean link
# (through the peers' event loops) exceeds 300 ms; never poor.
RATED_OK = {"good", "fair"}
AUDIO_ONLY_KBPS = 64


@pytest.fixture
def weak_link() -> Iterator[WeakLink]:
    link = WeakLink()
    try:
        refused = link.create()
        if refused:
            pytest.skip(f"this machine refuses the two namespaces: {refused}")
        yield link
    finally:
        link.destroy()


@pytest.fixture
def node() -> None:
    if shutil.which("node"):
        return
    if os.environ.get("TELEHEALTH_REQUIRE_SERVICES"):
        pytest.fail("node is not installed (apt-get install -y nodejs)")
    pytest.skip("needs node to run the room page's quality.js: apt-get install -y nodejs")


def wait_until(predicate: Callable[[], Any], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {within}s")
        time.sleep(0.1)


def test_over_a_netem_link_audio_keeps_flowing_and_the_page_falls_back_to_audio_only(
    weak_link: WeakLink,
    node: None,
    start_daphne: Callable[..., Daphne],
    cast: Any,
    consultation: Any,
) -> None:
    qdisc = NETEM
    refused = weak_link.shape(qdisc)
    if refused:
        pytest.skip(
            f"the kernel refuses `tc qdisc … {' '.join(qdisc)}` ({refused}): without "
            "sch_netem the delay and random loss cannot be applied here; "
            "tests/e2e/test_link_emulator.py tests the same link without it"
        )
    weak_link.unshape()
    unix_socket = Path(f"/tmp/{weak_link.ns['a']}.sock")
    start_daphne("weak-link", unix_socket=unix_socket)
    common = ["--socket", str(unix_socket), "--consultation", str(consultation.external_id)]
    common += ["--password", PASSWORD]
    peers: list[Peer] = []
    try:
        nurse, specialist = ("--username", "nurse"), ("--username", "specialist")
        peers.append(Peer(weak_link.ns["a"], *common, *nurse, "--luminance", "200"))
        peers.append(Peer(weak_link.ns["b"], *common, *specialist, "--luminance", "60"))
        for peer in peers:
            peer.wait_for(
                lambda p: any(s["level"] in RATED_OK and s["video_frames"] for s in p.samples()),
                within=40,
                what="a call with video, rated good, on the clean link",
            )
        shaped_at = [len(peer.samples()) for peer in peers]
        assert weak_link.shape(qdisc) is None

        for peer in peers:
            peer.wait_for(lambda p: p.samples()[-1]["audio_only"], 45, "the audio-only fallback")
        for peer, start in zip(peers, shaped_at, strict=True):
            weak = peer.samples()[start:]
            assert [s["level"] for s in weak].count("poor") >= 6
            assert [a for s in weak for a in s["actions"]] == [
                {"max_bitrate": 150_000},
                {"audio_only": True},
            ]
            # Until then the other side's video filled the link.
            assert max(s["bitrate_kbps"] for s in weak) > 2 * AUDIO_ONLY_KBPS

        # Video is off at both ends now: what arrives is audio alone, and it keeps arriving.
        for peer in peers:
            peer.wait_for(
                lambda p: p.samples()[-1]["bitrate_kbps"] < AUDIO_ONLY_KBPS, 10, "audio alone"
            )
        since = [len(peer.samples()) for peer in peers]
        for peer, start in zip(peers, since, strict=True):
            audio = peer.samples()[start - 1]["audio_frames"]
            peer.wait_for(
                lambda p, audio=audio: p.samples()[-1]["audio_frames"] >= audio + 100,
                within=20,
                what="two more seconds of audio",
            )
            assert all(s["bitrate_kbps"] < AUDIO_ONLY_KBPS for s in peer.samples()[start:])
    finally:
        for peer in peers:
            peer.stop()
        unix_socket.unlink(missing_ok=True)
    # The server records the leaves before the test database is flushed.
    room = RoomPeer.objects.filter(consultation=consultation)
    wait_until(lambda: not room.exists(), within=15, what="an empty room")
