"""nginx from deploy/nginx.conf over TLS in front of two daphne processes started with the
command of deploy/systemd/telehealth-daphne@.service (docs/deploy.md §2).

nginx gets the shipped site with only what one machine needs changed: free loopback ports,
the test's certificate, its two daphne ports, and its files in the test's folder.
"""

import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.deploy.tls import self_signed
from tests.e2e.servers import ROOT, Daphne, free_port

SITE = ROOT / "deploy" / "nginx.conf"
UNIT = ROOT / "deploy" / "systemd" / "telehealth-daphne@.service"
NGINX = "/usr/sbin/nginx"
INSTALLED = "/srv/telehealth"


def unit_command(port: int) -> list[str]:
    """The unit's ExecStart for instance `port`, with this checkout's daphne."""
    line = next(ln for ln in UNIT.read_text().splitlines() if ln.startswith("ExecStart="))
    argv = shlex.split(line.removeprefix("ExecStart=").replace("%i", str(port)))
    assert argv[0] == f"{INSTALLED}/.venv/bin/daphne"
    return [sys.executable, "-m", "daphne", *argv[1:]]


class UnitDaphne(Daphne):
    """A daphne run as the unit runs it (--proxy-headers and all), probed on /healthz."""

    def start(self, timeout: float = 30.0) -> "UnitDaphne":
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            unit_command(self.port),
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait_until_up(timeout)
        return self

    def wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} did not answer within {timeout}s; see {self.log_path}")


class Nginx:
    def __init__(self, tmp: Path, upstreams: list[int]) -> None:
        self.tmp, self.upstreams = tmp, upstreams
        self.port, self.http_port = free_port(), free_port()
        self.cert, self.key = self_signed(tmp)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def site(self) -> str:
        site = SITE.read_text()
        servers = "".join(f"server 127.0.0.1:{port};\n    " for port in self.upstreams)
        site = re.sub(r"(server 127\.0\.0\.1:\d+;\s*)+", servers, site, count=1)
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.http_port};")
        site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{self.port} ssl")
        site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {self.cert};", site)
        site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {self.key};", site)
        return site.replace(f"{INSTALLED}/staticfiles/", f"{ROOT}/frontend/static/")

    def config(self) -> Path:
        (self.tmp / "site.conf").write_text(self.site())
        temp = "".join(
            f"  {kind}_temp_path {self.tmp}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf = self.tmp / "nginx.conf"
        conf.write_text(
            f"daemon off;\nmaster_process on;\npid {self.tmp}/nginx.pid;\n"
            f"error_log {self.tmp}/error.log;\nevents {{}}\n"
            f"http {{\n  access_log {self.tmp}/access.log;\n{temp}"
            f"  include /etc/nginx/mime.types;\n  include {self.tmp}/site.conf;\n}}\n"
        )
        return conf

    def check(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [NGINX, "-t", "-p", str(self.tmp), "-c", str(self.config())],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def start(self, timeout: float = 15.0) -> "Nginx":
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.tmp), "-c", str(self.config())],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited; see {self.tmp}/error.log")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise TimeoutError(f"nginx did not answer within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: fast shutdown of master and workers
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def stack_env(nginx_url: str) -> dict[str, str]:
    """The production settings of deploy/env.example that matter behind nginx."""
    return {
        "HTTPS": "1",
        "BEHIND_TLS_PROXY": "1",
        "SERVE_STATIC": "0",
        "CSRF_TRUSTED_ORIGINS": nginx_url,
        "DATABASE_POOL_MAX_SIZE": "4",
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
    }
