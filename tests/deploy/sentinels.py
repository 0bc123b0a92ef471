"""A Redis primary, its replica and three sentinels on free loopback ports (docs/deploy.md
"Redis Sentinel"), each with its files in the test's folder."""

import subprocess
import time
from pathlib import Path

from redis import Redis, RedisError

from tests.e2e.servers import free_port

MASTER = "telehealth"


class RedisProcess:
    def __init__(self, tmp: Path, name: str, *args: str, sentinel: bool = False) -> None:
        self.port = free_port()
        self.log = tmp / f"{name}.log"
        conf = tmp / f"{name}.conf"  # a sentinel rewrites its own file
        lines = [f"port {self.port}", "bind 127.0.0.1", f"dir {tmp}", *args]
        conf.write_text("\n".join(lines) + "\n")
        self.killed = False
        binary = "redis-sentinel" if sentinel else "redis-server"
        self.proc = subprocess.Popen(
            [binary, str(conf), "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def client(self) -> Redis:
        return Redis(port=self.port, socket_timeout=1, decode_responses=True)

    def kill(self) -> None:
        self.killed = True
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class SentinelSet:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.processes: list[RedisProcess] = []

    def start(self, timeout: float = 20.0) -> "SentinelSet":
        plain = ('save ""', "appendonly no")
        self.primary = self._run("primary", *plain)
        self.replica = self._run("replica", *plain, f"replicaof 127.0.0.1 {self.primary.port}")
        self.sentinels = [
            self._run(
                f"sentinel-{n}",
                f"sentinel monitor {MASTER} 127.0.0.1 {self.primary.port} 2",
                f"sentinel down-after-milliseconds {MASTER} 1000",
                f"sentinel failover-timeout {MASTER} 10000",
                sentinel=True,
            )
            for n in range(3)
        ]
        self.wait(lambda: all(self._knows_replica(s) for s in self.sentinels), timeout)
        return self

    def _run(self, name: str, *args: str, sentinel: bool = False) -> RedisProcess:
        process = RedisProcess(self.tmp, name, *args, sentinel=sentinel)
        self.processes.append(process)
        return process

    def _knows_replica(self, sentinel: RedisProcess) -> bool:
        try:
            replicas = sentinel.client().sentinel_slaves(MASTER)
            peers = sentinel.client().sentinel_sentinels(MASTER)
        except (OSError, RedisError):
            return False
        ok = [r for r in replicas if "s_down" not in r["flags"] and r["master-link-status"] == "ok"]
        return bool(ok) and len(peers) == 2

    def master_port(self) -> int | None:
        try:
            found = self.sentinels[0].client().sentinel_get_master_addr_by_name(MASTER)
        except (OSError, RedisError):
            return None
        return int(found[1]) if found else None

    @property
    def env(self) -> dict[str, str]:
        return {
            "REDIS_URL": "",
            "REDIS_SENTINELS": ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels),
            "REDIS_SENTINEL_MASTER": MASTER,
        }

    def wait(self, condition: object, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():  # type: ignore[operator]
            for process in (p for p in self.processes if not p.killed):
                assert process.proc.poll() is None, f"{process.log} exited"
            assert time.monotonic() < deadline, "the sentinels did not settle in time"
            time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
