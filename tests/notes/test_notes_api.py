"""Structured notes over HTTP: revisions, conflicts, idempotent retries, field errors,
access and audit."""

from typing import Any

import pytest

from clinics.models import AuditEntry
from consults.notes.models import NoteRevision, NoteSection
from tests.notes.conftest import edit, notes_url, section_url

pytestmark = pytest.mark.django_db


def test_it_applies_a_write_based_on_the_current_revision(
    cast: Any, api: Any, consultation: Any
) -> None:
    r = api(cast.nurse).put(section_url(consultation, "history"), edit(), format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["revision"] == 1
    assert r.json()["content"] == {"text": "Đau ngực 2 ngày"}
    assert r.json()["updated_by"]["name"] == cast.nurse.display_name


def test_two_writers_from_one_base_revision_one_wins_and_nothing_is_lost(
    cast: Any, api: Any, consultation: Any
) -> None:
    first = api(cast.nurse).put(
        section_url(consultation, "history"), edit("Nurse's text"), format="json"
    )
    second = api(cast.specialist).put(
        section_url(consultation, "history"), edit("Specialist's text"), format="json"
    )
    assert first.status_code == 200
    assert second.status_code == 409
    body = second.json()
    assert body["code"] == "note_conflict"
    assert body["current"]["content"] == {"text": "Nurse's text"}
    assert body["current"]["revision"] == 1
    assert body["yours"]["content"] == {"text": "Specialist's text"}

    history = api(cast.specialist).get(notes_url(consultation, "history/history/")).json()
    assert [(h["author"]["name"], h["outcome"], h["content"]["text"]) for h in history] == [
        (cast.nurse.display_name, "applied", "Nurse's text"),
        (cast.specialist.display_name, "conflict", "Specialist's text"),
    ]
    assert NoteSection.objects.get(consultation=consultation, key="history").revision == 1


def test_the_losing_writer_merges_on_the_current_revision(
    cast: Any, api: Any, consultation: Any
) -> None:
    api(cast.nurse).put(section_url(consultation, "history"), edit("A"), format="json")
    api(cast.specialist).put(section_url(consultation, "history"), edit("B"), format="json")
    merged = api(cast.specialist).put(
        section_url(consultation, "history"), edit("A + B", base=1), format="json"
    )
    assert merged.status_code == 200
    assert merged.json()["revision"] == 2


def test_a_retried_edit_is_applied_once(cast: Any, api: Any, consultation: Any) -> None:
    payload = edit("Ho khan", edit_id="edit-1")
    first = api(cast.nurse).put(section_url(consultation, "history"), payload, format="json")
    again = api(cast.nurse).put(section_url(consultation, "history"), payload, format="json")
    assert first.status_code == again.status_code == 200
    assert again.json()["replayed"] is True
    assert again.json()["revision"] == 1
    assert NoteRevision.objects.filter(client_edit_id="edit-1").count() == 1


def test_a_retry_after_another_writer_saved_answers_its_first_save_not_the_section_now(
    cast: Any, api: Any, consultation: Any
) -> None:
    url = section_url(consultation, "history")
    mine = edit("Ho khan 3 ngày", edit_id="nurse-1")
    assert api(cast.nurse).put(url, mine, format="json").status_code == 200  # the answer is lost
    theirs = edit("Ho khan 3 ngày, sốt về chiều", base=1)
    assert api(cast.specialist).put(url, theirs, format="json").status_code == 200

    again = api(cast.nurse).put(url, mine, format="json")
    assert again.status_code == 200
    body = again.json()
    assert body["replayed"] is True
    assert (body["revision"], body["content"]) == (1, {"text": "Ho khan 3 ngày"})
    assert body["updated_by"]["name"] == cast.nurse.display_name
    assert body["current_revision"] == 2
    assert body["current"]["content"] == {"text": "Ho khan 3 ngày, sốt về chiều"}

    # The nurse's next edit starts from the revision her save made: a conflict, not a loss.
    follow = api(cast.nurse).put(url, edit("Ho khan, đã đỡ", base=body["revision"]), format="json")
    assert follow.status_code == 409
    assert follow.json()["code"] == "note_conflict"
    assert follow.json()["current"]["content"] == {"text": "Ho khan 3 ngày, sốt về chiều"}
    section = NoteSection.objects.get(consultation=consultation, key="history")
    assert (section.revision, section.content) == (2, {"text": "Ho khan 3 ngày, sốt về chiều"})


def test_a_retried_edit_is_audited_as_a_read_of_the_section(
    cast: Any, api: Any, consultation: Any
) -> None:
    payload = edit("Ho khan", edit_id="edit-1")
    api(cast.nurse).put(section_url(consultation, "history"), payload, format="json")
    api(cast.nurse).put(section_url(consultation, "history"), payload, format="json")
    section = NoteSection.objects.get(consultation=consultation, key="history")
    entries = AuditEntry.objects.filter(actor=cast.nurse, object_id=str(section.external_id))
    assert sorted(entries.values_list("action", flat=True)) == ["read", "update"]
    assert entries.get(action="read").patient_id == cast.patient.external_id


@pytest.mark.parametrize(
    ("who", "text", "base"),
    [
        ("nurse", "Another text", 0),  # the same writer, another edit under the used id
        ("nurse", "Ho khan", 1),  # the same text from another base is another edit
        ("specialist", "Ho khan", 0),  # another writer: never answered with the nurse's save
    ],
)
def test_another_edit_under_a_used_edit_id_is_refused_not_replayed(
    cast: Any, api: Any, consultation: Any, who: str, text: str, base: int
) -> None:
    url = section_url(consultation, "history")
    api(cast.nurse).put(url, edit("Ho khan", edit_id="edit-1"), format="json")
    r = api(getattr(cast, who)).put(url, edit(text, base=base, edit_id="edit-1"), format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency_key_reused"
    assert r.json()["client_edit_id"] == "edit-1"
    assert NoteRevision.objects.count() == 1
    assert not AuditEntry.objects.filter(action="read", object_type="notesection").exists()


def test_a_retry_from_a_writer_no_longer_on_the_consult_is_refused(
    cast: Any, api: Any, consultation: Any
) -> None:
    payload = edit("Ho khan", edit_id="edit-1")
    api(cast.nurse).put(section_url(consultation, "history"), payload, format="json")
    cast.nurse.memberships.update(is_active=False)
    r = api(cast.nurse).put(section_url(consultation, "history"), payload, format="json")
    assert r.status_code == 404
    assert not AuditEntry.objects.filter(action="read", object_type="notesection").exists()


@pytest.mark.parametrize(
    ("section", "content", "field"),
    [
        ("history", {"text": ""}, "text"),
        ("history", {"text": "   "}, "text"),
        ("history", {"text": "x" * 10_001}, "text"),
        ("vitals", {"spo2": 101}, "spo2"),
        ("vitals", {"bp_systolic": 80, "bp_diastolic": 120}, "bp_systolic"),
        ("vitals", {"bp_systolic": 120}, "bp_diastolic"),
        ("vitals", {"pulse": "fast"}, "pulse"),
        ("vitals", {"temperature": 52}, "temperature"),
        ("assessment", {"text": "THA", "icd10": ["X99.99"]}, "icd10"),
        ("plan", {"text": "ok", "disposition": "home"}, "disposition"),
        ("followup", {"date": "31/12/2026"}, "date"),
    ],
)
def test_it_rejects_bad_section_content_with_field_errors(
    cast: Any, api: Any, consultation: Any, section: str, content: dict[str, Any], field: str
) -> None:
    r = api(cast.nurse).put(
        section_url(consultation, section),
        {"content": content, "base_revision": 0, "client_edit_id": "e1"},
        format="json",
    )
    assert r.status_code == 400, r.json()
    assert field in r.json()["fields"]
    assert not NoteRevision.objects.exists()


def test_it_accepts_vitals_within_physiological_ranges(
    cast: Any, api: Any, consultation: Any
) -> None:
    vitals = {
        "pulse": 88,
        "bp_systolic": 150,
        "bp_diastolic": 95,
        "temperature": 37.2,
        "spo2": 97,
        "weight": 54.5,
        "text": "Phổi thông khí tốt",
    }
    r = api(cast.nurse).put(
        section_url(consultation, "vitals"),
        {"content": vitals, "base_revision": 0, "client_edit_id": "e1"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["content"]["bp_systolic"] == 150


def test_it_accepts_an_assessment_with_listed_icd10_codes(
    cast: Any, api: Any, consultation: Any
) -> None:
    r = api(cast.specialist).put(
        section_url(consultation, "assessment"),
        {
            "content": {"text": "Tăng huyết áp độ 2", "icd10": ["i10", "E11.9"]},
            "base_revision": 0,
            "client_edit_id": "e1",
        },
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["content"]["icd10"] == ["I10", "E11.9"]


def test_it_rejects_an_unknown_section(cast: Any, api: Any, consultation: Any) -> None:
    r = api(cast.nurse).put(section_url(consultation, "gossip"), edit(), format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "unknown_section"


def test_it_rejects_a_missing_base_revision(cast: Any, api: Any, consultation: Any) -> None:
    r = api(cast.nurse).put(
        section_url(consultation, "history"), {"content": {"text": "x"}}, format="json"
    )
    assert r.status_code == 400
    assert "base_revision" in r.json()["fields"]


def test_it_rejects_an_edit_without_its_client_edit_id(
    cast: Any, api: Any, consultation: Any
) -> None:
    # Without it a retry after a lost answer would be a second edit (docs/notes.md).
    r = api(cast.nurse).put(
        section_url(consultation, "history"),
        {"content": {"text": "x"}, "base_revision": 0},
        format="json",
    )
    assert r.status_code == 400
    assert "client_edit_id" in r.json()["fields"]
    assert not NoteRevision.objects.exists()


def test_the_icd10_list_is_searchable_without_diacritics(cast: Any, api: Any) -> None:
    r = api(cast.specialist).get("/api/v1/icd10/", {"q": "tang huyet ap"})
    codes = [row["code"] for row in r.json()["results"]]
    assert "I10" in codes
    r = api(cast.specialist).get("/api/v1/icd10/", {"q": "E11"})
    assert {row["code"] for row in r.json()["results"]} >= {"E11.9", "E11.5"}


def test_a_coordinator_of_the_hospital_reads_but_cannot_write(
    cast: Any, api: Any, consultation: Any
) -> None:
    assert api(cast.coordinator).get(notes_url(consultation)).status_code == 200
    r = api(cast.coordinator).put(section_url(consultation, "history"), edit(), format="json")
    assert r.status_code == 403
    assert r.json()["code"] == "not_a_participant"


OUTSIDER_CALLS = [
    ("get", ""),
    ("put", "history/"),
    ("get", "history/history/"),
    ("get", "chat/"),
    ("post", "chat/"),
    ("get", "attachments/"),
    ("post", "attachments/"),
    ("get", "report/"),
    ("post", "report/sign/"),
    ("get", "report/pdf/"),
    ("post", "report/addenda/"),
    ("post", "submit/"),
]


@pytest.mark.parametrize(("method", "rest"), OUTSIDER_CALLS)
@pytest.mark.parametrize("who", ["outsider_nurse", "other_specialist", "other_coordinator"])
def test_an_outsider_gets_404_on_every_notes_endpoint(
    cast: Any, api: Any, consultation: Any, method: str, rest: str, who: str
) -> None:
    r = getattr(api(getattr(cast, who)), method)(notes_url(consultation, rest), {}, format="json")
    assert r.status_code == 404, (method, rest, r.content)
    assert not AuditEntry.objects.filter(patient_id=cast.patient.external_id).exists()


def test_anonymous_callers_are_refused(api: Any, consultation: Any) -> None:
    assert api(None).get(notes_url(consultation)).status_code == 401


def test_reads_and_writes_over_http_leave_audit_entries(
    cast: Any, api: Any, consultation: Any
) -> None:
    api(cast.nurse).put(section_url(consultation, "history"), edit(), format="json")
    api(cast.specialist).get(notes_url(consultation))
    entries = AuditEntry.objects.filter(patient_id=cast.patient.external_id, channel="http")
    assert entries.filter(actor=cast.nurse, action="update", object_type="notesection").exists()
    assert entries.filter(actor=cast.specialist, action="read", object_type="notes").exists()
