"""Settings for production: Redis behind Sentinel, attachments in a bucket, error reports."""

import os
import runpy
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
from asgiref.sync import async_to_sync
from django.core.exceptions import ImproperlyConfigured
from redis import Redis, RedisError

from consults.realtime.layer import RedisChannelLayer
from telehealth.sentinel import SentinelMasterPool
from telehealth.sentry import scrub
from tests.e2e.servers import ARTIFACTS, RedisServer, free_port
from tests.telehealth.test_settings import SETTINGS, VARS

OPERATIONS = ["REDIS_SENTINELS", "REDIS_SENTINEL_MASTER", "REDIS_SENTINEL_PASSWORD"]
OPERATIONS += ["REDIS_PASSWORD", "REDIS_DB", "SENTRY_DSN", "ATTACHMENTS_S3_BUCKET"]
OPERATIONS += ["ATTACHMENTS_S3_ENDPOINT_URL", "METRICS_ALLOWED_IPS", "METRICS_TOKEN"]
OPERATIONS += ["ICE_SERVERS", "STUN_URLS", "TURN_URLS", "TURN_SECRET"]


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in VARS + OPERATIONS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "k")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(SETTINGS)


def test_sentinels_configure_the_channel_layer_and_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = load(
        monkeypatch,
        REDIS_SENTINELS="sentinel-a.internal:26379, [fd00::3]:26380",
        REDIS_SENTINEL_MASTER="telehealth",
        REDIS_SENTINEL_PASSWORD="s-pw",
        REDIS_PASSWORD="m-pw",
        REDIS_DB="3",
    )
    assert s["REDIS_CONFIGURED"] is True
    (host,) = s["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"]
    assert host["sentinels"] == [("sentinel-a.internal", 26379), ("fd00::3", 26380)]
    assert host["master_name"] == "telehealth"
    assert host["sentinel_kwargs"]["password"] == "s-pw"
    assert (host["db"], host["password"], host["socket_timeout"]) == (3, "m-pw", 30)
    assert "address" not in host
    cache = s["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["OPTIONS"]["pool_class"] == "telehealth.sentinel.SentinelMasterPool"
    assert cache["OPTIONS"]["sentinels"] == host["sentinels"]
    assert cache["OPTIONS"]["master_name"] == "telehealth"


def test_redis_url_alone_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load(monkeypatch, REDIS_URL="redis://cache.internal:6379/2")
    (host,) = s["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"]
    assert host["address"] == "redis://cache.internal:6379/2"
    assert s["CACHES"]["default"]["LOCATION"] == "redis://cache.internal:6379/2"


def test_redis_url_and_sentinels_together_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured, match="either REDIS_URL"):
        load(
            monkeypatch,
            REDIS_URL="redis://cache.internal:6379/2",
            REDIS_SENTINELS="s.internal:26379",
            REDIS_SENTINEL_MASTER="telehealth",
        )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDIS_SENTINELS": "s.internal:26379"}, "go together"),
        ({"REDIS_SENTINEL_MASTER": "telehealth"}, "go together"),
        ({"REDIS_SENTINELS": "s.internal", "REDIS_SENTINEL_MASTER": "m"}, "host:port"),
    ],
)
def test_half_a_sentinel_setting_is_refused(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        load(monkeypatch, **env)


def test_attachments_default_to_the_private_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = load(monkeypatch)["STORAGES"]["attachments"]
    assert storage["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert storage["OPTIONS"]["location"].endswith("private_media")


def test_a_bucket_moves_attachments_to_s3(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load(
        monkeypatch,
        ATTACHMENTS_S3_BUCKET="telehealth-attachments",
        ATTACHMENTS_S3_ENDPOINT_URL="https://s3.soyte.example",
    )
    storage = s["STORAGES"]["attachments"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "telehealth-attachments"
    assert storage["OPTIONS"]["endpoint_url"] == "https://s3.soyte.example"
    assert storage["OPTIONS"]["file_overwrite"] is False


@pytest.fixture
def no_sentry() -> Iterator[None]:
    scope = sentry_sdk.get_global_scope()
    scope.set_client(None)  # no client: what a process without SENTRY_DSN has
    yield
    sentry_sdk.get_client().close()
    scope.set_client(None)


def test_sentry_is_not_initialized_without_a_dsn(
    monkeypatch: pytest.MonkeyPatch, no_sentry: None
) -> None:
    load(monkeypatch)
    assert not sentry_sdk.get_client().is_active()


def test_sentry_sends_no_personal_data_and_no_bodies(
    monkeypatch: pytest.MonkeyPatch, no_sentry: None
) -> None:
    load(monkeypatch, SENTRY_DSN="http://public@127.0.0.1:9/1")
    client = sentry_sdk.get_client()
    assert client.is_active()
    assert client.options["send_default_pii"] is False
    assert client.options["include_local_variables"] is False
    assert client.options["before_send"] is scrub


def test_an_event_leaves_without_the_request_body_query_or_cookies() -> None:
    event = {
        "request": {
            "url": "https://telehealth.example/api/v1/patients/?search=Nguyễn",
            "method": "POST",
            "data": {"full_name": "Nguyễn Thị A", "phone": "0912345678"},
            "query_string": "search=Nguyễn",
            "cookies": {"sessionid": "x"},
        }
    }
    request = scrub(event, {})["request"]
    assert request == {"url": "https://telehealth.example/api/v1/patients/", "method": "POST"}


class Sentinel:
    """One redis-sentinel on a free loopback port, monitoring one primary."""

    def __init__(self, primary_port: int, tmp: Path) -> None:
        self.port = free_port()
        self.conf = tmp / "sentinel.conf"  # sentinel rewrites its file: a private copy
        self.conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\n"
            f"sentinel monitor telehealth 127.0.0.1 {primary_port} 1\n"
        )
        ARTIFACTS.mkdir(exist_ok=True)
        self.log = ARTIFACTS / f"sentinel-{self.port}.log"
        self.proc = subprocess.Popen(
            ["redis-sentinel", str(self.conf), "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def master(self) -> tuple[str, int] | None:
        try:
            asked = Redis(port=self.port, socket_timeout=1, decode_responses=True)
            found = asked.sentinel_get_master_addr_by_name("telehealth")
        except (OSError, RedisError):  # still starting
            return None
        return (found[0], int(found[1])) if found else None

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[tuple[Sentinel, RedisServer]]:
    if not shutil.which("redis-sentinel") or not shutil.which("redis-server"):
        message = "redis-sentinel is missing: apt-get install redis-sentinel"
        if os.environ.get("TELEHEALTH_REQUIRE_SERVICES"):
            pytest.fail(message)  # .ci/run installs it
        pytest.skip(message)
    primary = RedisServer("sentinel-primary").start()
    watcher = Sentinel(primary.port, tmp_path)
    try:
        deadline = time.monotonic() + 15
        while watcher.master() != ("127.0.0.1", primary.port):
            assert watcher.proc.poll() is None, f"redis-sentinel exited; see {watcher.log}"
            assert time.monotonic() < deadline, f"sentinel never saw the primary; {watcher.log}"
            time.sleep(0.05)
        yield watcher, primary
    finally:
        watcher.stop()
        primary.stop()


def test_the_channel_layer_and_the_cache_reach_the_master_through_a_sentinel(
    monkeypatch: pytest.MonkeyPatch, sentinel: tuple[Sentinel, RedisServer]
) -> None:
    watcher, primary = sentinel
    s = load(
        monkeypatch,
        REDIS_SENTINELS=f"127.0.0.1:{watcher.port}",
        REDIS_SENTINEL_MASTER="telehealth",
    )
    config = s["CHANNEL_LAYERS"]["default"]["CONFIG"]
    layer = RedisChannelLayer(hosts=config["hosts"], prefix=f"t{uuid.uuid4().hex}")

    async def round_trip() -> dict[str, Any]:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "room.relay", "frame": {"type": "offer"}})
        try:
            return await layer.receive(channel)
        finally:
            await layer.flush()
            await layer.close_pools()

    assert async_to_sync(round_trip)() == {"type": "room.relay", "frame": {"type": "offer"}}

    options = dict(s["CACHES"]["default"]["OPTIONS"])
    options.pop("pool_class")
    pool = SentinelMasterPool.from_url(s["CACHES"]["default"]["LOCATION"], **options)
    client = Redis(connection_pool=pool)
    client.set("telehealth:sentinel-check", "1")
    direct = Redis(port=primary.port)
    assert direct.get("telehealth:sentinel-check") == b"1"  # it was the primary
    pool.disconnect()
