"""Django's RedisCache on a Sentinel-monitored master (settings REDIS_SENTINELS).

RedisCache builds its pool with `pool_class.from_url(LOCATION, **OPTIONS)`; redis-py's
Sentinel pool has no such constructor. This one takes the sentinels from OPTIONS (LOCATION
only names the master for the reader) and asks them for the master on every new
connection, so a failover is followed without a restart.
"""

from typing import Any

from redis.sentinel import Sentinel, SentinelConnectionPool


class SentinelMasterPool(SentinelConnectionPool):
    @classmethod
    def from_url(  # type: ignore[override]
        cls,
        url: str,
        *,
        sentinels: list[tuple[str, int]],
        master_name: str,
        sentinel_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> "SentinelMasterPool":
        manager = Sentinel(sentinels, sentinel_kwargs=sentinel_kwargs)
        return cls(master_name, manager, **kwargs)
