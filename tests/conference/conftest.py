from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from tests.support.janus import JanusServer, start_janus


@pytest.fixture(scope="module")
def janus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JanusServer]:
    """Debian's Janus with deploy/janus's configuration, on free loopback ports."""
    server = start_janus(Path(tmp_path_factory.mktemp("janus")))
    yield server
    server.stop()


@pytest.fixture
def janus(janus_server: JanusServer, settings: Any) -> JanusServer:
    """The app configured to use `janus_server`."""
    settings.JANUS_URL = janus_server.url
    settings.JANUS_ADMIN_URL = janus_server.admin_url
    settings.JANUS_ADMIN_SECRET = janus_server.admin_secret
    return janus_server


@pytest.fixture(autouse=True)
async def _close_thread_connections() -> AsyncIterator[None]:
    """sync_to_async's thread keeps a connection open; close it so the test DB can go."""
    yield
    await sync_to_async(connections.close_all)()
