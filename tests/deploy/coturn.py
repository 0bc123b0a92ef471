"""Debian's coturn, run from deploy/turnserver.conf on loopback for a test.

The shipped file, changed only where one machine needs it: free ports on 127.0.0.1, no TLS
listener (no certificate here), the test's secret, files in the test's folder, and loopback
peers allowed (both peers of the test live on 127.0.0.1; production refuses them).
"""

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.e2e.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "turnserver.conf"
TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"
LOCAL_ONLY = ("listening-port", "tls-listening-port", "static-auth-secret", "cert", "pkey")
LOCAL_ONLY += ("log-file", "min-port", "max-port")


class Coturn:
    def __init__(self, tmp: Path, secret: str) -> None:
        self.port = free_port()
        self.tmp, self.secret = tmp, secret
        self.log = tmp / "turnserver.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        kept = []
        for line in CONF.read_text().splitlines():
            key = line.partition("=")[0].strip()
            if key in LOCAL_ONLY or re.fullmatch(r"denied-peer-ip=(127\.|::1).*", line):
                continue
            kept.append(line)
        relay = free_port()
        kept += [
            f"listening-port={self.port}",
            "listening-ip=127.0.0.1",
            "relay-ip=127.0.0.1",
            f"min-port={relay}",
            f"max-port={relay + 200}",
            f"static-auth-secret={self.secret}",
            "no-tls",
            "no-dtls",
            "allow-loopback-peers",
            f"log-file={self.log}",
            f"pidfile={self.tmp / 'turnserver.pid'}",
            f"userdb={self.tmp / 'turndb'}",
        ]
        return "\n".join(kept) + "\n"

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def start(self, timeout: float = 15.0) -> "Coturn":
        conf = self.tmp / "turnserver.conf"
        conf.write_text(self.config())
        self.proc = subprocess.Popen(
            [TURNSERVER, "-c", str(conf), "--no-stdout-log"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"turnserver exited; see {self.log}")
            try:  # it listens on TCP too once its listeners are up
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"turnserver did not listen within {timeout}s; see {self.log}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
