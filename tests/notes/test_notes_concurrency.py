"""Two writers at the same instant, on PostgreSQL: row locks, not luck, decide."""

import threading
from typing import Any

import pytest
from django.db import connection

from clinics.audit import Via
from consults.notes.models import NoteRevision, NoteSection
from consults.notes.services import note_save
from telehealth.errors import AppError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_writes_from_one_base_apply_exactly_one(cast: Any, consultation: Any) -> None:
    writers = [cast.nurse, cast.specialist] * 4
    barrier = threading.Barrier(len(writers))
    outcomes: list[str] = []

    def write(i: int, user: Any) -> None:
        barrier.wait()
        try:
            note_save(
                consultation=consultation,
                section="history",
                content={"text": f"writer {i}"},
                base_revision=0,
                client_edit_id=f"w{i}",
                actor=user,
                via=Via.system(),
            )
            outcomes.append("applied")
        except AppError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i, u)) for i, u in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["applied"] + ["note_conflict"] * 7
    assert NoteSection.objects.get(consultation=consultation, key="history").revision == 1
    assert NoteRevision.objects.count() == 8  # every attempt is in the history


def test_the_same_edit_sent_twice_at_once_is_applied_once(cast: Any, consultation: Any) -> None:
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def write() -> None:
        barrier.wait()
        try:
            saved = note_save(
                consultation=consultation,
                section="history",
                content={"text": "once"},
                base_revision=0,
                client_edit_id="same",
                actor=cast.nurse,
                via=Via.system(),
            )
            results.append(saved.replayed)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False, True]
    assert NoteRevision.objects.filter(client_edit_id="same").count() == 1


def test_no_write_slips_in_between_the_snapshot_and_the_signature(
    cast: Any, consultation: Any
) -> None:
    from consults.notes.models import Report
    from consults.notes.report import report_sign

    note_save(
        consultation=consultation,
        section="assessment",
        content={"text": "THA"},
        base_revision=0,
        actor=cast.specialist,
        via=Via.system(),
    )
    edits = [
        ("history", {"text": "Bệnh sử"}),
        ("plan", {"text": "Amlodipin 5 mg"}),
        ("followup", {"date": "2026-12-24"}),
        ("vitals", {"pulse": 80}),
    ]
    barrier = threading.Barrier(len(edits) + 1)
    refusals: list[str] = []

    def write(section: str, content: dict[str, Any]) -> None:
        barrier.wait()
        try:
            note_save(
                consultation=consultation,
                section=section,
                content=content,
                base_revision=0,
                actor=cast.nurse,
                via=Via.system(),
            )
        except AppError as exc:
            refusals.append(exc.code)
        finally:
            connection.close()

    def sign() -> None:
        barrier.wait()
        try:
            report_sign(consultation=consultation, actor=cast.specialist, via=Via.system())
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=e) for e in edits]
    threads.append(threading.Thread(target=sign))
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert set(refusals) <= {"report_signed"}
    snapshot = Report.objects.get(consultation=consultation).snapshot
    signed = {s["section"]: s["content"] for s in snapshot["sections"]}
    for section in NoteSection.objects.filter(consultation=consultation):
        assert section.content == (signed[section.key] or {}), section.key
