"""The e2e fixtures (real daphne processes, a private redis-server) and the room's
communicators for the socket tests."""

from tests.e2e.conftest import daphne_server, redis_server, start_daphne
from tests.room.conftest import open_room

__all__ = ["daphne_server", "open_room", "redis_server", "start_daphne"]
