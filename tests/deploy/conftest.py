"""The deploy suite's fixtures: the end-to-end ones it shares (tests/e2e/conftest.py)."""

from tests.e2e.conftest import loopback_ice, redis_server, start_daphne

__all__ = ["loopback_ice", "redis_server", "start_daphne"]
