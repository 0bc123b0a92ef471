"""Chat persisted with the consult, over HTTP (the socket is in test_notes_socket)."""

from typing import Any

import pytest

from clinics.models import AuditEntry
from consults.notes.models import ChatMessage
from tests.notes.conftest import notes_url
from tests.notes.test_report import sign, write_assessment

pytestmark = pytest.mark.django_db


def test_a_participant_posts_and_both_sides_read_the_chat(
    cast: Any, api: Any, consultation: Any
) -> None:
    r = api(cast.nurse).post(
        notes_url(consultation, "chat/"), {"text": "Chào bác sĩ"}, format="json"
    )
    assert r.status_code == 201
    messages = api(cast.specialist).get(notes_url(consultation, "chat/")).json()["results"]
    assert [(m["author"]["name"], m["text"]) for m in messages] == [
        (cast.nurse.display_name, "Chào bác sĩ")
    ]
    assert AuditEntry.objects.filter(
        actor=cast.specialist, action="read", object_type="chat"
    ).exists()
    assert AuditEntry.objects.filter(
        actor=cast.nurse, action="create", object_type="chatmessage"
    ).exists()


def test_a_retried_chat_message_is_posted_once(cast: Any, api: Any, consultation: Any) -> None:
    body = {"text": "Huyết áp 150/95", "client_msg_id": "m-1"}
    first = api(cast.nurse).post(notes_url(consultation, "chat/"), body, format="json")
    again = api(cast.nurse).post(notes_url(consultation, "chat/"), body, format="json")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert ChatMessage.objects.count() == 1


def test_a_retried_chat_message_answers_the_first_and_is_audited_as_a_read(
    cast: Any, api: Any, consultation: Any
) -> None:
    chat = notes_url(consultation, "chat/")
    body = {"text": "Huyết áp 150/95", "client_msg_id": "m-1"}
    first = api(cast.nurse).post(chat, body, format="json").json()
    api(cast.specialist).post(
        chat, {"text": "Đo lại sau 5 phút", "client_msg_id": "s-1"}, format="json"
    )
    again = api(cast.nurse).post(chat, body, format="json")
    assert again.status_code == 200
    assert again.json() == {**first, "replayed": True}
    [read] = AuditEntry.objects.filter(action="read", object_type="chatmessage")
    assert (read.object_id, read.actor) == (first["id"], cast.nurse)
    assert (read.patient_id, read.channel) == (cast.patient.external_id, "http")


@pytest.mark.parametrize(("who", "text"), [("nurse", "Mạch 90"), ("specialist", "Huyết áp 150/95")])
def test_another_message_under_a_used_id_is_refused_not_replayed(
    cast: Any, api: Any, consultation: Any, who: str, text: str
) -> None:
    chat = notes_url(consultation, "chat/")
    api(cast.nurse).post(chat, {"text": "Huyết áp 150/95", "client_msg_id": "m-1"}, format="json")
    r = api(getattr(cast, who)).post(chat, {"text": text, "client_msg_id": "m-1"}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency_key_reused"
    assert r.json()["client_msg_id"] == "m-1"
    assert ChatMessage.objects.count() == 1
    assert not AuditEntry.objects.filter(action="read", object_type="chatmessage").exists()


def test_a_retried_chat_message_from_someone_no_longer_on_the_consult_is_refused(
    cast: Any, api: Any, consultation: Any
) -> None:
    chat = notes_url(consultation, "chat/")
    body = {"text": "Huyết áp 150/95", "client_msg_id": "m-1"}
    api(cast.nurse).post(chat, body, format="json")
    cast.nurse.memberships.update(is_active=False)
    assert api(cast.nurse).post(chat, body, format="json").status_code == 404
    assert not AuditEntry.objects.filter(action="read", object_type="chatmessage").exists()


def test_it_refuses_a_chat_message_after_sign_off_and_the_chat_stays_readable(
    cast: Any, api: Any, consultation: Any
) -> None:
    chat = notes_url(consultation, "chat/")
    body = {"text": "Chào bác sĩ", "client_msg_id": "m-1"}
    first = api(cast.nurse).post(chat, body, format="json")
    write_assessment(api, cast, consultation)
    assert sign(api, cast.specialist, consultation).status_code == 201

    late = api(cast.nurse).post(chat, {"text": "Thêm sau khi ký"}, format="json")
    assert late.status_code == 409
    assert late.json()["code"] == "report_signed"
    # Posted before sign-off: its resend (the answer was lost) still answers as posted.
    resent = api(cast.nurse).post(chat, body, format="json")
    assert resent.status_code == 200
    assert resent.json()["id"] == first.json()["id"]
    messages = api(cast.specialist).get(chat).json()["results"]
    assert [m["text"] for m in messages] == ["Chào bác sĩ"]
    assert ChatMessage.objects.count() == 1
    assert AuditEntry.objects.filter(action="create", object_type="chatmessage").count() == 1


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_it_rejects_an_empty_or_oversized_message(
    cast: Any, api: Any, consultation: Any, text: str
) -> None:
    r = api(cast.nurse).post(notes_url(consultation, "chat/"), {"text": text}, format="json")
    assert r.status_code == 400
    assert "text" in r.json()["fields"]


def test_a_coordinator_reads_but_does_not_post(cast: Any, api: Any, consultation: Any) -> None:
    assert api(cast.coordinator).get(notes_url(consultation, "chat/")).status_code == 200
    r = api(cast.coordinator).post(notes_url(consultation, "chat/"), {"text": "hi"}, format="json")
    assert r.status_code == 403
