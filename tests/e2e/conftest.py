"""End-to-end fixtures: real daphne processes and Debian's Chromium through Playwright.

- `daphne_server`: one daphne for the whole session, on the test database (use
  `transactional_db` in the test so the server sees committed data).
- `start_daphne()`: more processes (scale-out, restarts); stopped after the test.
- `redis_server`: a private redis-server on a free port, for tests that restart Redis.
- `loopback_ice`: aiortc peers in the test process gather 127.0.0.1 (ENVIRONMENT.md).
- `browser`: headless /usr/bin/chromium with fake camera/microphone (ENVIRONMENT.md).
- `login(page, server, username)`: logs in through the login form.
"""

import io
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections

from tests.e2e.servers import ARTIFACTS, Daphne, RedisServer
from tests.e2e.two_factor import second_step

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream=fps=30",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
PASSWORD = "test-password-1"  # tests.factories.make_user


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def daphne_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[Daphne]:
    server = Daphne("daphne-main")
    with django_db_blocker.unblock():
        server.start()
    yield server
    server.stop()


@pytest.fixture
def start_daphne(django_db_blocker: Any) -> Iterator[Callable[..., Daphne]]:
    started: list[Daphne] = []

    def start(
        name: str = "daphne-extra", *, unix_socket: Path | None = None, **extra_env: str
    ) -> Daphne:
        with django_db_blocker.unblock():
            server = Daphne(name, extra_env=extra_env, unix_socket=unix_socket).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if not shutil.which("redis-server"):
        if os.environ.get("TELEHEALTH_REQUIRE_SERVICES"):
            pytest.fail("redis-server is not installed")
        pytest.skip("needs the redis-server binary (a private server is started and restarted)")
    server = RedisServer("redis-private").start()
    yield server
    server.stop()


@pytest.fixture
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    import aioice.ice

    # aioice never offers 127.0.0.1 by itself.
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


# Module scope: while Playwright's sync API runs, its event loop occupies this thread and
# pytest-asyncio cannot set up async fixtures; closing it with the module frees the thread
# for the async tests of the modules that follow.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("TELEHEALTH_REQUIRE_SERVICES"):
            pytest.fail("Debian's chromium is not installed (.ci/run installs it)")
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; Django's ORM
    # would refuse the test's own queries. Only the test process gets this flag
    # (tests.e2e.servers.Daphne removes it from the servers' environment).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def login() -> Callable[..., None]:
    def do_login(page: Any, server: Daphne, username: str, password: str = PASSWORD) -> None:
        page.goto(f"{server.url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url or "/code/" in url, timeout=10_000)
        second_step(page, username)

    return do_login


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], None]:
    """screenshot(page, "name") → artifacts/<test>-<name>.png (kept out of git)."""

    def take(page: Any, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{name}.png"), full_page=True)

    return take


@pytest.fixture
def seed_demo() -> Callable[[], None]:
    """seed_demo, run in a worker thread: after Playwright's sync API has started, the main
    thread holds a running event loop, and the command's on-commit socket events (async_to_sync)
    refuse to run in it. Browser tests use this; the command itself runs from a shell."""

    def run() -> None:
        failure: list[BaseException] = []

        def target() -> None:
            try:
                call_command("seed_demo", stdout=io.StringIO())
            except BaseException as exc:
                failure.append(exc)
            finally:
                connections.close_all()

        worker = threading.Thread(target=target)
        worker.start()
        worker.join(timeout=120)
        assert not worker.is_alive(), "seed_demo did not finish within 120 s"
        if failure:
            raise failure[0]

    return run
