"""Where the room's database calls run."""

from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async


def in_db_pool(fn: Callable[..., Any]) -> Any:
    """Run `fn` in one of the event loop executor's threads, not in the process's single
    sync thread: joins, leaves and heartbeats of different rooms then wait on PostgreSQL side
    by side instead of one after another (the soak's connections per second, bench/). Each
    thread keeps its own connection (cleaned up around every call, as database_sync_to_async
    does); presence stays serialized per room by its row lock, not by the thread."""
    return database_sync_to_async(fn, thread_sensitive=False)
