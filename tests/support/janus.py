"""Debian's Janus on loopback for the conference tests: our deploy/janus configuration with
free ports and a fresh admin secret, started in the foreground and stopped at the end."""

import re
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "janus"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class JanusServer:
    url: str
    admin_url: str
    admin_secret: str
    process: subprocess.Popen[bytes]
    log: Path
    started_in: float

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def configure(folder: Path, port: int, admin_port: int, admin_secret: str) -> None:
    """Copy deploy/janus into `folder` with the test's ports and secret."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in DEPLOY.glob("*.jcfg"):
        text = source.read_text().replace("CHANGE-ME", admin_secret)
        text = re.sub(r"(?m)^(\s*)port = \d+", rf"\g<1>port = {port}", text)
        text = re.sub(r"(?m)^(\s*)admin_port = \d+", rf"\g<1>admin_port = {admin_port}", text)
        text = text.replace('configs_folder = "/etc/janus"', f'configs_folder = "{folder}"')
        (folder / source.name).write_text(text)


def start_janus(folder: Path, within: float = 30) -> JanusServer:
    """Start Janus with the configuration copied into `folder`; wait until its Admin API
    answers `info` (or fail with its log)."""
    janus = shutil.which("janus")
    if janus is None:
        raise RuntimeError("janus is not installed (.ci/run installs it)")
    port, admin_port = free_port(), free_port()
    admin_secret = secrets.token_urlsafe(24)
    configure(folder, port, admin_port, admin_secret)
    log = folder / "janus.log"
    began = time.monotonic()
    process = subprocess.Popen(
        [janus, "-F", str(folder), "-o", "-d", "4", "-L", str(log), "-N", "-r", "40000-40999"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    server = JanusServer(
        url=f"http://127.0.0.1:{port}/janus",
        admin_url=f"http://127.0.0.1:{admin_port}/admin",
        admin_secret=admin_secret,
        process=process,
        log=log,
        started_in=0.0,
    )
    deadline = began + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            body = requests.post(
                server.admin_url,
                json={"janus": "info", "transaction": "up", "admin_secret": admin_secret},
                timeout=1,
            ).json()
            if body.get("janus") == "server_info":
                server.started_in = time.monotonic() - began
                return server
        except requests.RequestException:
            pass
        time.sleep(0.05)
    server.stop()
    text = log.read_text() if log.exists() else ""
    raise RuntimeError(f"Janus did not come up within {within}s:\n{text[-3000:]}")
