from collections.abc import Iterator
from typing import Any

import pytest

from tests.messaging.fake_providers import FakeProviders, serve

# The booking fixtures (a specialist's open hours, a bookable day, the booking POST).
from tests.scheduling.conftest import book, day, hours  # noqa: F401


@pytest.fixture
def providers(settings: Any) -> Iterator[FakeProviders]:
    for fake in serve():
        settings.MESSAGES_SMS_URL = f"{fake.url}/sms"
        settings.MESSAGES_ZALO_URL = f"{fake.url}/zns"
        settings.MESSAGES_SMS_API_KEY = "key"
        settings.MESSAGES_ZALO_TEMPLATE_ID = "241021"
        settings.MESSAGES_WEBHOOK_SECRET = "receipt-secret"
        settings.MESSAGES_HTTP_TIMEOUT = 5
        yield fake
