"""The consult on a mountain link (issue 16), emulated without netem: a station, a middle and
a hospital network namespace, the middle one shaping every packet in a user-space TUN stage
(tests/support/link/). Each scenario is calibrated before it runs and refused if what was
built is more than 10 % off its target (loss: three standard errors, see calibrate.py).

The peers are two aiortc clients running the room page's own quality.js (tests/e2e/weak_peer.py);
the station's crosses the link for its media, its HTTP and its socket alike. Needs root: a
machine that refuses a namespace or the TUN device fails the test with its answer.
"""

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD
from tests.e2e.link_call import (
    audio_every_second,
    concealed_ratio,
    hospital_relay,
    record,
    since,
    start_peers,
)
from tests.e2e.servers import Daphne
from tests.e2e.weak_link import Peer
from tests.support.link.calibrate import Calibrator
from tests.support.link.netns import HOSPITAL, LinkRefused, Topology
from tests.support.link.scenarios import ALL, FAIR, MOUNTAIN

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def link() -> Iterator[tuple[Topology, Calibrator]]:
    topology = Topology()
    try:
        try:
            topology.create()
        except LinkRefused as refused:
            pytest.fail(f"the link emulator needs root, network namespaces and TUN: {refused}")
        calibrator = Calibrator(topology)
        yield topology, calibrator
        calibrator.stop()
    finally:
        topology.destroy()


def test_the_emulator_builds_each_scenario_within_ten_percent(
    link: tuple[Topology, Calibrator],
) -> None:
    _, calibrator = link
    for scenario in ALL.values():
        result = calibrator.calibrate(scenario)  # raises when off target
        record("calibration", {"scenario": scenario.name, "measured": result.measured})
    assert calibrator.outage_blocks()


def test_on_the_mountain_link_audio_flows_it_goes_audio_only_and_video_returns_on_a_better_one(
    link: tuple[Topology, Calibrator],
    start_daphne: Callable[..., Daphne],
    consultation: Any,
) -> None:
    topology, calibrator = link
    calibrations = {s.name: calibrator.calibrate(s).measured for s in (FAIR, MOUNTAIN)}
    # The link is (a) now: the last one calibrated.
    unix_socket = Path(f"/tmp/{topology.ns['station']}.sock")
    start_daphne("link", unix_socket=unix_socket, ALLOWED_HOSTS=f"127.0.0.1,{HOSPITAL}")
    peers: list[Peer] = []
    try:
        with hospital_relay(topology, unix_socket) as server:
            started = time.monotonic()
            peers = start_peers(topology, server, str(consultation.external_id), PASSWORD)
            for peer in peers:
                peer.wait_for(lambda p: p.first("connected"), 30, "the call connected on (a)")
            connected = max(p.first("connected")["t"] for p in peers)
            # The call begins when its second participant is in the room (welcomed).
            both_in = max(p.first("joined")["t"] for p in peers)
            assert connected - both_in <= 10, connected - both_in
            for peer in peers:
                peer.wait_for(
                    lambda p: p.samples() and p.samples()[-1]["audio_only"],
                    15 - (time.monotonic() - connected),
                    "audio only on (a)",
                )
            audio_only_at = max(next(s["t"] for s in p.samples() if s["audio_only"]) for p in peers)
            for peer in peers:
                assert peer.samples()[-1]["level"] == "poor"
            # Audio keeps flowing both ways, every second, before and after video stopped.
            for peer in peers:
                peer.wait_for(
                    lambda p: len(since(p, audio_only_at + 2)) >= 5,
                    12,
                    "five more seconds of audio",
                )
            for peer in peers:
                assert audio_every_second(since(peer, connected)), since(peer, connected)
            # What a receiver conceals: over the whole of (a), and once video has stopped and
            # the queues it filled have drained (2 s), when only the link's own 5 % is lost.
            concealed = [concealed_ratio(since(p, connected)) for p in peers]
            concealed_audio_only = [concealed_ratio(since(p, audio_only_at + 2)) for p in peers]
            assert all(c < 0.12 for c in concealed_audio_only), concealed_audio_only

            # (b): video comes back by itself, and frames arrive again at both ends.
            topology.shape(FAIR.up, FAIR.down)
            better = time.monotonic()
            for peer in peers:
                peer.wait_for(
                    lambda p: since(p, better) and since(p, better)[-1]["video_sending"],
                    40,
                    "video back on (b)",
                )
            frames = [p.samples()[-1]["video_frames"] for p in peers]
            for peer, count in zip(peers, frames, strict=True):
                peer.wait_for(
                    lambda p, count=count: p.samples()[-1]["video_frames"] > count + 10,
                    30,
                    "remote video decoding again",
                )
            video_back = max(
                next(s["t"] for s in since(p, better) if s["video_sending"]) for p in peers
            )
            record(
                "mountain_then_fair",
                {
                    "peer": "aiortc",
                    "calibration": calibrations,
                    "join_s": both_in - started,
                    "connect_s": connected - both_in,
                    "audio_only_after_connect_s": audio_only_at - connected,
                    "concealed_ratio": concealed,
                    "concealed_ratio_audio_only": concealed_audio_only,
                    "video_back_after_b_s": video_back - better,
                },
            )
    finally:
        for peer in peers:
            peer.stop()
        unix_socket.unlink(missing_ok=True)
