"""The suite runs against the services it claims to (PostgreSQL and Redis in CI)."""

import os

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(
    not os.environ.get("TELEHEALTH_REQUIRE_SERVICES"),
    reason="runs in .ci/run, which sets TELEHEALTH_REQUIRE_SERVICES=1 with PostgreSQL and Redis",
)
def test_ci_runs_on_postgresql_and_redis() -> None:
    assert connection.vendor == "postgresql"
    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)


async def test_the_channel_layer_delivers_a_message() -> None:
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "ping", "n": 1})
    assert await layer.receive(channel) == {"type": "ping", "n": 1}


def test_times_are_aware_and_vietnamese_by_default() -> None:
    assert settings.USE_TZ is True
    assert os.environ.get("TIME_ZONE", "Asia/Ho_Chi_Minh") == settings.TIME_ZONE
    assert os.environ.get("LANGUAGE_CODE", "vi") == settings.LANGUAGE_CODE
