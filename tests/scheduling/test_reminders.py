"""manage.py send_reminders: each reminder goes out once, even with two workers."""

import re
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command, get_commands
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consults.models import Consultation
from consults.scheduling import reminders
from consults.scheduling.models import Reminder, SpecialistSchedule
from tests import factories
from tests.conftest import Cast
from tests.scheduling.conftest import BookFn, at

SENT_SMS: list[tuple[str, str]] = []
SMS_LOCK = threading.Lock()


class RecordingSmsGateway:
    """Stands in for the SMS provider (outside the project)."""

    def send(self, to: str, text: str) -> None:
        with SMS_LOCK:
            SENT_SMS.append((to, text))


@pytest.fixture(autouse=True)
def _sms(settings: pytest.FixtureRequest) -> None:
    settings.SMS_BACKEND = "tests.scheduling.test_reminders.RecordingSmsGateway"  # type: ignore[attr-defined]
    SENT_SMS.clear()


@pytest.fixture
def addresses(cast: Cast) -> None:
    cast.nurse.email = "tram.talung@example.vn"
    cast.nurse.save()
    cast.specialist.email = "bs.timmach@example.vn"
    cast.specialist.phone = "0912345678"
    cast.specialist.save()
    cast.station.hotline = "02063800115"
    cast.station.save()


def due_consult(cast: Cast) -> Consultation:
    """A consult booked through the service two days ahead, its reminders then made due."""
    start = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    consult = factories.make_consultation(
        patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital, start=start
    )
    reminders.plan(consult)
    Reminder.objects.filter(consultation=consult, kind="24h").update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    return consult


@pytest.mark.django_db
def test_booking_plans_reminders_24h_and_15min_before(
    cast: Cast, hours: SpecialistSchedule, day: date, book: BookFn
) -> None:
    consult = Consultation.objects.get(external_id=book(at(day, 9)).json()["id"])
    due = sorted({(r.kind, r.due_at) for r in consult.reminders.all()})
    assert due == [("15m", at(day, 8, 45)), ("24h", at(day - timedelta(days=1), 9))]
    assert consult.reminders.count() == 8  # 2 kinds × 2 parties × 2 channels


@pytest.mark.django_db
def test_send_reminders_once_twice_sends_each_reminder_once(cast: Cast, addresses: None) -> None:
    consult = due_consult(cast)
    call_command("send_reminders", "--once")
    call_command("send_reminders", "--once")
    recipients = sorted(to for m in mail.outbox for to in m.to)
    assert recipients == ["bs.timmach@example.vn", "tram.talung@example.vn"]
    assert sorted(to for to, _ in SENT_SMS) == ["02063800115", "0912345678"]
    assert "Teleconsult" in mail.outbox[0].subject or "Nhắc" in mail.outbox[0].subject
    statuses = set(consult.reminders.filter(kind="24h").values_list("status", flat=True))
    assert statuses == {"sent"}
    assert set(consult.reminders.filter(kind="15m").values_list("status", flat=True)) == {"pending"}


@pytest.mark.django_db
def test_a_party_without_an_address_is_skipped_not_retried(cast: Cast) -> None:
    consult = due_consult(cast)
    call_command("send_reminders", "--once")
    assert mail.outbox == []
    assert set(consult.reminders.filter(kind="24h").values_list("status", flat=True)) == {"skipped"}


@pytest.mark.django_db
def test_a_deactivated_nurse_of_the_station_gets_no_reminder(cast: Cast, addresses: None) -> None:
    factories.make_user("station_staff", cast.station, email="da.nghi@example.vn", is_active=False)
    due_consult(cast)
    call_command("send_reminders", "--once")
    recipients = sorted(to for m in mail.outbox for to in m.to)
    assert recipients == ["bs.timmach@example.vn", "tram.talung@example.vn"]


@pytest.mark.django_db
def test_a_cancelled_consult_gets_no_reminder(cast: Cast, addresses: None) -> None:
    consult = due_consult(cast)
    Consultation.objects.filter(pk=consult.pk).update(status="cancelled")
    call_command("send_reminders", "--once")
    assert mail.outbox == []
    assert SENT_SMS == []


@pytest.mark.django_db
def test_a_failing_gateway_is_recorded_and_does_not_stop_the_others(
    cast: Cast, addresses: None, settings: pytest.FixtureRequest
) -> None:
    settings.SMS_BACKEND = "tests.scheduling.test_reminders.BrokenSmsGateway"  # type: ignore[attr-defined]
    consult = due_consult(cast)
    call_command("send_reminders", "--once")
    sms = consult.reminders.filter(kind="24h", channel="sms")
    assert set(sms.values_list("status", flat=True)) == {"failed"}
    assert len(mail.outbox) == 2


def due_consults(cast: Cast, count: int, *, days: int) -> None:
    """`count` consults `days` ahead, half at each of the cast's stations, reminders due."""
    for i in range(count):
        patient = factories.make_patient(cast.station if i % 2 else cast.station2)
        start = (timezone.now() + timedelta(days=days, minutes=30 * i)).replace(microsecond=0)
        consult = factories.make_consultation(
            patient=patient, specialist=cast.specialist, hospital=cast.hospital, start=start
        )
        reminders.plan(consult)
    Reminder.objects.filter(status="pending", kind="24h").update(
        due_at=timezone.now() - timedelta(minutes=1)
    )


@pytest.mark.django_db
def test_it_sends_a_batch_of_10_due_consults_with_the_queries_of_1(
    cast: Cast, addresses: None
) -> None:
    factories.make_user("station_staff", cast.station2, email="tram.phucsen@example.vn")
    due_consults(cast, 1, days=2)
    with CaptureQueriesContext(connection) as one:
        assert reminders.send_due() == 4
    due_consults(cast, 10, days=4)
    with CaptureQueriesContext(connection) as ten:
        assert reminders.send_due() == 40
    # Beyond the one mark per reminder (committed as soon as it is sent), the same queries.
    assert len(ten.captured_queries) - 40 == len(one.captured_queries) - 4
    recipients = {to for m in mail.outbox for to in m.to}
    assert recipients == {
        "bs.timmach@example.vn",
        "tram.talung@example.vn",
        "tram.phucsen@example.vn",
    }


class BrokenSmsGateway:
    def send(self, to: str, text: str) -> None:
        raise ConnectionError("gateway down")


class WorkerKilled(BaseException):
    """The worker process dying (SIGKILL, out of memory): nothing in it catches this."""


class DyingSmsGateway:
    """Sends the first SMS, and the worker dies while sending the second."""

    def send(self, to: str, text: str) -> None:
        with SMS_LOCK:
            if SENT_SMS:
                raise WorkerKilled
            SENT_SMS.append((to, text))


def messages_to() -> list[str]:
    return sorted([to for m in mail.outbox for to in m.to] + [to for to, _ in SENT_SMS])


@pytest.mark.django_db
def test_a_worker_dying_mid_batch_never_sends_a_sent_reminder_again(
    cast: Cast, addresses: None, settings: pytest.FixtureRequest
) -> None:
    consult = due_consult(cast)
    settings.SMS_BACKEND = "tests.scheduling.test_reminders.DyingSmsGateway"  # type: ignore[attr-defined]
    with pytest.raises(WorkerKilled):
        reminders.send_due()
    before = messages_to()
    assert len(before) == 3  # the station's e-mail and SMS, the specialist's e-mail
    settings.SMS_BACKEND = "tests.scheduling.test_reminders.RecordingSmsGateway"  # type: ignore[attr-defined]
    # The restarted worker: what went out is marked sent; the one in flight waits for its lease.
    assert reminders.send_due() == 0
    assert messages_to() == before
    later = timezone.now() + timedelta(seconds=settings.REMINDER_LEASE_SECONDS + 1)  # type: ignore[attr-defined]
    assert reminders.send_due(now=later) == 1
    assert messages_to() == sorted([*before, "0912345678"])
    statuses = set(consult.reminders.filter(kind="24h").values_list("status", flat=True))
    assert statuses == {"sent"}
    retried = consult.reminders.get(kind="24h", party="specialist", channel="sms")
    assert retried.attempts == 2


@pytest.mark.django_db
def test_a_worker_past_its_lease_leaves_the_rest_of_its_batch(
    cast: Cast, addresses: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    consult = due_consult(cast)
    real_now = timezone.now
    sends: list[str] = []

    class SlowSmsGateway:
        """Each SMS takes longer than the whole lease (a gateway hanging until its timeout)."""

        def send(self, to: str, text: str) -> None:
            sends.append(to)
            late = real_now() + timedelta(hours=1)
            monkeypatch.setattr(timezone, "now", lambda: late)

    monkeypatch.setattr(reminders, "sms_gateway", SlowSmsGateway)
    assert reminders.send_due() == 2  # the station's e-mail and SMS; then the lease is over
    assert len(sends) == 1
    left = consult.reminders.filter(kind="24h", status="sending")
    assert sorted(left.values_list("party", "channel")) == [
        ("specialist", "email"),
        ("specialist", "sms"),
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_workers_send_each_reminder_once(cast: Cast, addresses: None) -> None:
    consults = [due_consult(cast) for _ in range(1)]
    for i in range(20):
        patient = factories.make_patient(cast.station)
        start = timezone.now() + timedelta(days=3, minutes=30 * i)
        c = factories.make_consultation(
            patient=patient, specialist=cast.other_specialist, hospital=cast.hospital2, start=start
        )
        reminders.plan(c)
        consults.append(c)
    Reminder.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            call_command("send_reminders", "--once")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    sent_rows = Reminder.objects.filter(status="sent").count()
    assert Reminder.objects.filter(status="pending").count() == 0
    # Each sent row is exactly one message: e-mails + SMS equal the rows marked sent.
    assert len(mail.outbox) + len(SENT_SMS) == sent_rows
    assert sum(m.to == ["bs.timmach@example.vn"] for m in mail.outbox) == 2  # 24h + 15m


@pytest.mark.django_db
def test_cancelling_leaves_a_reminder_being_sent_and_cancels_an_abandoned_one(
    cast: Cast,
) -> None:
    consult = due_consult(cast)
    now = timezone.now()
    rows = consult.reminders.filter(kind="24h").order_by("id")
    in_flight, abandoned = rows[0], rows[1]
    Reminder.objects.filter(pk=in_flight.pk).update(
        status="sending", lease_until=now + timedelta(minutes=5)
    )
    Reminder.objects.filter(pk=abandoned.pk).update(
        status="sending", lease_until=now - timedelta(minutes=1)
    )
    reminders.cancel(consult)
    in_flight.refresh_from_db()
    abandoned.refresh_from_db()
    assert in_flight.status == "sending"  # its worker marks it when the message is out
    assert abandoned.status == "cancelled"
    assert set(consult.reminders.exclude(pk=in_flight.pk).values_list("status", flat=True)) == {
        "cancelled"
    }


def test_the_deployed_worker_unit_runs_the_command_the_docs_name() -> None:
    root = Path(__file__).resolve().parents[2]
    docs = (root / "docs" / "deploy.md").read_text().split("## 6. Reminders worker")[1]
    section = docs.split("\n## ")[0]
    unit = re.search(r"`(deploy/systemd/[\w@.-]+\.service)`", section)
    command = re.search(r"`\.venv/bin/python (manage\.py send_reminders)`", section)
    assert unit
    assert command
    service = (root / unit.group(1)).read_text()
    exec_start = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    assert exec_start == f"ExecStart=/srv/telehealth/.venv/bin/python {command.group(1)}"
    assert get_commands()["send_reminders"] == "consults"
    assert "Restart=always" in service  # a long-running loop, brought back if it dies
    assert "Type=oneshot" not in service
