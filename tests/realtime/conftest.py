"""The e2e fixtures (real daphne processes, a private redis-server) for the socket tests."""

from tests.e2e.conftest import daphne_server, redis_server, start_daphne

__all__ = ["daphne_server", "redis_server", "start_daphne"]
