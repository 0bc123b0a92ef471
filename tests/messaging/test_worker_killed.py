"""A worker killed (SIGKILL) while the provider holds its request: its lease runs out, another
worker resumes the message with the same request id, and it is delivered once."""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection

from consults.messaging.models import OutboundMessage
from consults.messaging.queue import message_enqueue, send_due
from tests.messaging.fake_providers import FakeProviders

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_leaves_it_delivered_once(providers: FakeProviders) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a second process shares the database only on PostgreSQL")
    db = connection.settings_dict
    message = message_enqueue(channel="sms", to="+84912345678", body="Nhắc lịch", key="kill")
    assert message is not None
    providers.script["/sms"] = ["hang"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MESSAGES_SMS_URL": f"{providers.url}/sms",
        "MESSAGES_LEASE_SECONDS": "60",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_messages", "--once"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert providers.arrived.wait(30), "the worker never reached the provider"
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(10) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENDING
    assert message.lease_until is not None

    assert send_due(now=message.lease_until - timedelta(seconds=1)) == {}  # still its lease
    assert send_due(now=message.lease_until + timedelta(seconds=1)) == {
        OutboundMessage.Status.SENT: 1
    }
    message.refresh_from_db()
    assert (message.status, message.attempts, message.provider_id) == ("sent", 2, "sms-1")
    ids = {payload["RequestId"] for path, payload in providers.requests}
    assert ids == {str(message.external_id)}
    assert providers.sent_to("/sms") == 2
    assert len(providers.delivered) == 1
