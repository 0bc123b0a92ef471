"""The issue's links (issue 16). Delay is one way; a round trip is twice it. Loss is per
direction. The station's uplink is the narrow one: its downlink gets twice the rate."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Scenario:
    name: str
    up: dict[str, Any]
    down: dict[str, Any] = field(default_factory=dict)

    @property
    def rtt_ms(self) -> float:
        return float(self.up.get("delay_ms", 0) + self.down.get("delay_ms", 0))


def _link(delay_ms: float, loss: float, kbps: float, **more: Any) -> tuple[dict[str, Any], ...]:
    up = {"delay_ms": delay_ms, "jitter_ms": 5, "loss": loss, "rate_kbps": kbps, **more}
    return up, {**up, "rate_kbps": 2 * kbps}


# (a) the station's real link: 300 ms round trip, 5 % random loss, 256 kbit/s up.
MOUNTAIN = Scenario("a", *_link(150, 0.05, 256))
# (b) a better day: 150 ms, 1 %, 1 Mbit/s up. (c) is a 20 s outage of (b), then (b) again.
FAIR = Scenario("b", *_link(75, 0.01, 1000))
# (d) 10 % loss in bursts (mean burst 4 packets) on (b)'s delay and rate.
BURSTY = Scenario("d", *_link(75, 0.10, 1000, burst=4))
CLEAN = Scenario("clean", {}, {})

ALL = {s.name: s for s in (MOUNTAIN, FAIR, BURSTY)}
