"""Failed logins: counted for the throttle within the window, purged after the retention."""

from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command, get_commands
from django.utils import timezone
from rest_framework.test import APIClient

from clinics.login import login_failures_purge
from clinics.models import LoginFailure
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

RETENTION = timedelta(hours=72)
TOKEN = "/api/v1/auth/token/"
PASSWORD = "test-password-1"


def failed(username: str, *, aged: timedelta) -> LoginFailure:
    return LoginFailure.objects.create(username=username, ip="10.0.0.7", at=timezone.now() - aged)


def test_the_purge_removes_old_failures_and_keeps_recent_ones() -> None:
    failed("old", aged=RETENTION + timedelta(minutes=1))
    failed("very-old", aged=timedelta(days=400))
    failed("recent", aged=RETENTION - timedelta(minutes=1))
    failed("fresh", aged=timedelta(0))
    assert login_failures_purge() == 2
    assert set(LoginFailure.objects.values_list("username", flat=True)) == {"recent", "fresh"}
    assert login_failures_purge() == 0


def test_the_purge_follows_the_retention_setting(settings: Any) -> None:
    settings.LOGIN_FAILURE_RETENTION_HOURS = 1
    failed("two-hours", aged=timedelta(hours=2))
    failed("half-hour", aged=timedelta(minutes=30))
    assert login_failures_purge(batch_size=1) == 1
    assert list(LoginFailure.objects.values_list("username", flat=True)) == ["half-hour"]


def test_a_lockout_survives_the_purge_within_its_window(cast: Cast, settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    client = APIClient()
    for _ in range(3):
        client.post(TOKEN, {"username": "nurse", "password": "guess"}, format="json")
    LoginFailure.objects.update(at=timezone.now() - settings.LOGIN_FAILURE_WINDOW / 2)
    assert login_failures_purge() == 0
    response = client.post(TOKEN, {"username": "nurse", "password": PASSWORD}, format="json")
    assert response.status_code == 429


def test_the_command_prints_how_many_it_removed() -> None:
    failed("old-1", aged=RETENTION + timedelta(hours=1))
    failed("old-2", aged=RETENTION + timedelta(hours=2))
    failed("recent", aged=timedelta(hours=1))
    out = StringIO()
    call_command("purge_login_failures", "--batch-size", "1", stdout=out)
    assert out.getvalue() == "login failures removed: 2\n"
    assert list(LoginFailure.objects.values_list("username", flat=True)) == ["recent"]


def test_the_command_refuses_a_batch_size_below_one() -> None:
    with pytest.raises(CommandError, match="batch-size"):
        call_command("purge_login_failures", "--batch-size", "0")


def test_the_hourly_purge_unit_also_runs_this_command() -> None:
    units = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
    service = (units / "telehealth-purge-idempotency.service").read_text()
    exec_starts = [line for line in service.splitlines() if line.startswith("ExecStart=")]
    assert [line.rsplit(" ", 1)[-1] for line in exec_starts] == [
        "purge_idempotency",
        "purge_login_failures",
        "purge_audit",
    ]
    assert get_commands()["purge_login_failures"] == "clinics"
