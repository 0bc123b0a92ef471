"""Measure what the emulator built and refuse a scenario more than 10 % off its target.

Round trip over 100 probes (median), loss each way over 1,000 packets, throughput each way
(a 3 s UDP flood at 1.5 × the rate, the bytes that arrived between the first and the last
packet). Loss over 1,000 packets cannot be held to 10 % of 5 % (one binomial standard error
is already 0.7 points, 14 % of it), so loss is allowed 10 % of its target or three standard
errors, whichever is larger (docs/decisions.md).
"""

import json
import math
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from tests.support.link.netns import HOSPITAL, ROOT, Topology
from tests.support.link.scenarios import Scenario

TOLERANCE = 0.10
PORT = 9099


class CalibrationFailed(AssertionError):
    pass


@dataclass
class Calibration:
    scenario: str
    measured: dict[str, Any]
    target: dict[str, Any]

    def row(self) -> str:
        m, loss = self.measured, self.measured["loss"]
        return (
            f"RTT {m['rtt_ms']:.0f} ms (target {self.target['rtt_ms']:.0f}), "
            f"loss up {100 * loss['up']:.1f} % / down {100 * loss['down']:.1f} % "
            f"(target {100 * self.target['loss']:.0f} %), "
            f"up {m['up_kbps']:.0f} kbit/s (target {self.target['up_kbps']:.0f}), "
            f"down {m['down_kbps']:.0f} kbit/s (target {self.target['down_kbps']:.0f})"
        )


def loss_allowance(target: float, burst: float = 0, packets: int = 1000) -> float:
    """10 % of the target, or three standard errors of a loss measured over `packets`; losses
    in bursts of mean length b are correlated, which multiplies the variance by about 2b − 1."""
    variance = target * (1 - target) / packets * max(1.0, 2 * burst - 1)
    return max(TOLERANCE * target, 3 * math.sqrt(variance))


class Calibrator:
    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.echo = subprocess.Popen(
            topology.network_args(
                "hospital",
                sys.executable,
                "-m",
                "tests.support.link.probe",
                "echo",
                "--host",
                HOSPITAL,
                "--port",
                str(PORT),
            ),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.echo.stdout is not None
        if self.echo.stdout.readline().strip() != "ready":
            raise CalibrationFailed("the echo end of the calibration did not start")

    def run(self, scenario: Scenario, *args: str) -> dict[str, Any]:
        up, down = scenario.up.get("rate_kbps", 0) or 10_000, scenario.down.get("rate_kbps", 0)
        done = subprocess.run(
            self.topology.network_args(
                "station",
                sys.executable,
                "-m",
                "tests.support.link.probe",
                "measure",
                "--host",
                HOSPITAL,
                "--port",
                str(PORT),
                "--up-kbps",
                str(up),
                "--down-kbps",
                str(down or 10_000),
                *args,
            ),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode:
            raise CalibrationFailed(f"the calibration probe failed: {done.stderr[-2000:]}")
        measured: dict[str, Any] = json.loads(done.stdout)
        return measured

    def calibrate(self, scenario: Scenario, attempts: int = 3) -> Calibration:
        """Shape the link as `scenario`, measure it and raise if it is off target in each of
        `attempts` measurements (a load spike on a shared machine is not a wrong link)."""
        for attempt in range(attempts):
            try:
                return self._calibrate(scenario)
            except CalibrationFailed:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _calibrate(self, scenario: Scenario) -> Calibration:
        self.topology.shape(scenario.up, scenario.down)
        measured = self.run(scenario)
        target = {
            "rtt_ms": scenario.rtt_ms,
            "loss": scenario.up["loss"],
            "up_kbps": scenario.up["rate_kbps"],
            "down_kbps": scenario.down["rate_kbps"],
        }
        result = Calibration(scenario.name, measured, target)
        off = []
        rtt = measured["rtt_ms"]
        if rtt is None or abs(rtt - target["rtt_ms"]) > TOLERANCE * target["rtt_ms"]:
            off.append("round trip")
        for way in ("up", "down"):
            got = measured["loss"][way]
            if got is None or abs(got - target["loss"]) > loss_allowance(
                target["loss"], scenario.up.get("burst", 0)
            ):
                off.append(f"loss {way}")
            kbps = measured[f"{way}_kbps"]
            if (
                kbps is None
                or abs(kbps - target[f"{way}_kbps"]) > TOLERANCE * target[f"{way}_kbps"]
            ):
                off.append(f"throughput {way}")
        if off:
            raise CalibrationFailed(f"scenario ({scenario.name}) off target: {off}; {result.row()}")
        return result

    def outage_blocks(self) -> bool:
        """During an outage no probe comes back."""
        self.topology.outage(True)
        try:
            measured = self.run(Scenario("outage", {}, {}), "--rtt-only")
        finally:
            self.topology.outage(False)
        return measured["rtt_answered"] == 0

    def stop(self) -> None:
        self.echo.kill()
        self.echo.wait(timeout=10)
