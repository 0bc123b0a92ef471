"""Liveness and readiness (docs/deploy.md "Health").

/healthz says the process answers, and touches nothing else: a load balancer that restarts
a process on it must not restart every process because the database is down. /readyz says
whether this process can serve: the database answers, Redis answers (when configured), and
every migration this code knows is applied.

Each readiness check runs in a worker thread and is waited for at most
READINESS_CHECK_TIMEOUT seconds, all of them at once: a dependency that hangs (its packets
dropped) answers 503 within that time instead of holding the probe until its own timeout.
A check still hung keeps its worker; with every worker held, the next probes time out as
well, which is the truth, and the process holds no more threads than that.
"""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

_WORKERS = ThreadPoolExecutor(max_workers=6, thread_name_prefix="readyz")
_migrated = False  # once every migration of this code is applied, it stays applied


def _database() -> None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connections.close_all()  # this worker thread's connection (back to the pool, if any)


def _migrations() -> None:
    global _migrated
    if _migrated:
        return
    try:
        executor = MigrationExecutor(connections["default"])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    finally:
        connections.close_all()
    if plan:
        raise RuntimeError(f"{len(plan)} unapplied migration(s)")
    _migrated = True


def _redis() -> None:
    # The cache and the channel layer share the configured Redis (or its Sentinel master).
    client = caches["default"]._cache.get_client(write=True)  # type: ignore[attr-defined]
    client.ping()


def checks() -> dict[str, Callable[[], None]]:
    found = {"database": _database, "migrations": _migrations}
    if settings.REDIS_CONFIGURED:
        found["redis"] = _redis
    return found


def readiness() -> dict[str, str]:
    """Each check's result: "ok", or why it failed."""
    deadline = time.monotonic() + settings.READINESS_CHECK_TIMEOUT
    futures = {name: _WORKERS.submit(check) for name, check in checks().items()}
    results: dict[str, str] = {}
    for name, future in futures.items():
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
            results[name] = "ok"
        except FutureTimeout:
            results[name] = "timeout"
        except Exception as exc:  # the probe reports every failure, it never raises
            results[name] = f"error: {type(exc).__name__}"
    return results


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results = readiness()
    failing = sorted(name for name, result in results.items() if result != "ok")
    body: dict[str, object] = {"status": "fail" if failing else "ok", "checks": results}
    if failing:
        body["failing"] = failing
    response = JsonResponse(body, status=503 if failing else 200)
    response["Cache-Control"] = "no-store"
    return response
