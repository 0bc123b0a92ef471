"""`make demo` itself: migrate, seed and serve on a fresh SQLite file; the demo logins work."""

import http.cookiejar
import os
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.servers import ARTIFACTS, ROOT, free_port

pytestmark = pytest.mark.e2e


def wait_for_login_page(url: str, proc: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("make demo exited early; see artifacts/make-demo.log")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return str(r.read().decode())
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"make demo did not serve {url} within {timeout}s")


def test_make_demo_serves_the_login_page_and_the_demo_logins_work(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "PORT": str(port)}
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "make-demo.log").open("wb") as log:
        proc = subprocess.Popen(
            ["make", "demo"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        page = wait_for_login_page(f"{base}/login/", proc, timeout=180)
        assert "Đăng nhập" in page
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = opener.open(f"{base}/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert token is not None
        body = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token.group(1),
                "username": "station",
                "password": "telehealth-demo",
            }
        ).encode()
        request = urllib.request.Request(f"{base}/login/", data=body, headers={"Referer": base})
        patients = opener.open(request).read().decode()
        assert "Nông Thị Hoa" in patients  # landed on the station's patient list
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    assert "telehealth-demo" in (ARTIFACTS / "make-demo.log").read_text()
