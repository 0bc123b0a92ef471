"""Notes over the consult socket: live propagation, presence, offline resend, access, audit."""

import json
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from clinics.models import AuditEntry
from consults.notes.models import ChatMessage, NoteRevision
from tests.notes.conftest import Connect

pytestmark = pytest.mark.django_db(transaction=True)


def save_frame(
    text: str, base: int = 0, edit_id: str = "e1", section: str = "history"
) -> dict[str, Any]:
    return {
        "type": "note.save",
        "section": section,
        "content": {"text": text},
        "base_revision": base,
        "client_edit_id": edit_id,
    }


async def test_it_sends_the_current_notes_on_connect(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    accepted, code, sock = await ws(cast.nurse, consultation)
    assert accepted
    assert code is None
    assert sock.first["type"] == "notes.state"
    assert [s["section"] for s in sock.first["sections"]] == [
        "history",
        "vitals",
        "assessment",
        "plan",
        "followup",
    ]


async def test_a_saved_edit_reaches_the_other_participant(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    _, _, specialist = await ws(cast.specialist, consultation)
    await nurse.send(save_frame("Sốt cao 3 ngày"))
    saved = await nurse.expect("note.saved")
    assert saved["revision"] == 1
    assert saved["replayed"] is False
    seen = await specialist.expect("note.updated")
    assert seen["content"] == {"text": "Sốt cao 3 ngày"}
    assert seen["updated_by"]["name"] == cast.nurse.display_name


async def test_a_stale_write_over_the_socket_gets_note_conflict_with_the_current_text(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    _, _, specialist = await ws(cast.specialist, consultation)
    await nurse.send(save_frame("A", edit_id="n1"))
    await nurse.expect("note.saved")
    await specialist.send(save_frame("B", edit_id="s1"))
    refused = await specialist.expect("error")
    assert refused["code"] == "note_conflict"
    assert refused["current"]["content"] == {"text": "A"}
    assert refused["client_edit_id"] == "s1"
    authors = await sync_to_async(
        lambda: sorted(NoteRevision.objects.values_list("author__username", "outcome"))
    )()
    assert authors == [("nurse", "applied"), ("specialist", "conflict")]


async def test_edits_resent_twice_after_a_reconnect_are_applied_once(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    _, _, first = await ws(cast.nurse, consultation)
    await first.send(save_frame("Typed before the link dropped", edit_id="offline-1"))
    await first.expect("note.saved")
    await first.close()  # the page never saw the ack: it keeps the edit and resends it

    _, _, again = await ws(cast.nurse, consultation)
    for _ in range(2):
        await again.send(save_frame("Typed before the link dropped", edit_id="offline-1"))
        ack = await again.expect("note.saved")
        assert ack["replayed"] is True
        assert ack["revision"] == 1
    count = await sync_to_async(NoteRevision.objects.filter(client_edit_id="offline-1").count)()
    assert count == 1


async def test_an_edit_resent_after_another_writer_saved_is_acked_with_its_own_revision(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    _, _, specialist = await ws(cast.specialist, consultation)
    await nurse.send(save_frame("Sốt 3 ngày", edit_id="n1"))
    await specialist.expect("note.updated")
    await nurse.close()  # the ack is lost: the page keeps the edit and resends it
    await specialist.send(save_frame("Sốt 3 ngày, ho đờm", base=1, edit_id="s1"))
    assert (await specialist.expect("note.saved"))["revision"] == 2

    _, _, nurse = await ws(cast.nurse, consultation)
    await nurse.send(save_frame("Sốt 3 ngày", edit_id="n1"))
    ack = await nurse.expect("note.saved")
    assert (ack["revision"], ack["replayed"], ack["current_revision"]) == (1, True, 2)
    assert ack["current"]["content"] == {"text": "Sốt 3 ngày, ho đờm"}
    # An edit based on the acknowledged revision is refused: the nurse never saw revision 2.
    await nurse.send(save_frame("Sốt 3 ngày, đã hạ", base=ack["revision"], edit_id="n2"))
    refused = await nurse.expect("error")
    assert refused["code"] == "note_conflict"
    assert refused["current"]["content"] == {"text": "Sốt 3 ngày, ho đờm"}
    reads = await sync_to_async(
        AuditEntry.objects.filter(
            actor=cast.nurse, channel="ws", action="read", object_type="notesection"
        ).count
    )()
    assert reads == 2  # the replay and the conflict each showed the current text


async def test_a_resent_chat_line_answers_the_first_and_is_audited_as_a_read(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    frame = {"type": "chat.send", "text": "Chào bác sĩ", "client_msg_id": "c1"}
    await nurse.send(frame)
    first = await nurse.expect("chat.sent")
    assert first["replayed"] is False
    await nurse.send(frame)
    again = await nurse.expect("chat.sent")
    assert (again["id"], again["replayed"]) == (first["id"], True)
    read = await sync_to_async(
        lambda: list(
            AuditEntry.objects.filter(action="read", object_type="chatmessage").values_list(
                "object_id", "channel"
            )
        )
    )()
    assert read == [(first["id"], "ws")]


async def test_a_chat_line_resent_after_losing_access_is_refused(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    frame = {"type": "chat.send", "text": "Chào bác sĩ", "client_msg_id": "c1"}
    await nurse.send(frame)
    await nurse.expect("chat.sent")
    await sync_to_async(cast.nurse.memberships.update)(is_active=False)
    await nurse.send(frame)
    assert (await nurse.expect("error"))["code"] == "access_revoked"
    assert not await sync_to_async(
        AuditEntry.objects.filter(action="read", object_type="chatmessage").exists
    )()


async def test_presence_is_broadcast_once_per_burst_of_typing(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    _, _, specialist = await ws(cast.specialist, consultation)
    for _ in range(5):
        await nurse.send({"type": "note.editing", "section": "vitals"})
    seen = await specialist.expect("note.presence")
    assert seen["user"]["name"] == cast.nurse.display_name
    assert seen["section"] == "vitals"
    await nurse.send({"type": "note.editing", "section": "vitals", "editing": False})
    stopped = await specialist.expect("note.presence")
    assert stopped["editing"] is False  # the four repeats in between were not rebroadcast


async def test_chat_over_the_socket_is_persisted_and_broadcast(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    _, _, specialist = await ws(cast.specialist, consultation)
    await specialist.send({"type": "chat.send", "text": "Chào chị", "client_msg_id": "c1"})
    await specialist.send({"type": "chat.send", "text": "Chào chị", "client_msg_id": "c1"})
    seen = await nurse.expect("chat.message")
    assert seen["text"] == "Chào chị"
    assert await sync_to_async(ChatMessage.objects.count)() == 1


async def test_bad_frames_get_error_frames(cast: Any, consultation: Any, ws: Connect) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    await nurse.send(
        {
            "type": "note.save",
            "section": "gossip",
            "content": {"text": "x"},
            "base_revision": 0,
            "client_edit_id": "g1",
        }
    )
    assert (await nurse.expect("error"))["code"] == "unknown_section"
    await nurse.send(
        {
            "type": "note.save",
            "section": "vitals",
            "content": {"spo2": 120},
            "base_revision": 0,
            "client_edit_id": "v1",
        }
    )
    refused = await nurse.expect("error")
    assert "spo2" in refused["fields"]
    await nurse.send({"type": "nonsense"})
    assert (await nurse.expect("error"))["code"] == "unknown_type"


async def test_socket_reads_and_writes_leave_ws_audit_entries(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    await nurse.send(save_frame("x"))
    await nurse.expect("note.saved")
    entries = await sync_to_async(
        lambda: set(
            AuditEntry.objects.filter(channel="ws", actor=cast.nurse).values_list(
                "action", "object_type"
            )
        )
    )()
    assert {("read", "notes"), ("update", "notesection")} <= entries


@pytest.mark.parametrize(
    ("who", "code", "reason"),
    [
        (None, 4401, "not_authenticated"),
        ("outsider_nurse", 4403, "not_a_participant"),
        ("other_specialist", 4403, "not_a_participant"),
        ("other_coordinator", 4403, "not_a_participant"),
        ("coordinator", 4403, "not_a_participant"),  # sees the consult, is not on it
    ],
)
async def test_it_closes_the_socket_for_those_not_on_the_consult_as_the_room_does(
    cast: Any, consultation: Any, ws: Connect, who: str | None, code: int, reason: str
) -> None:
    user = getattr(cast, who) if who else None
    accepted, close_code, sock = await ws(user, consultation)
    assert accepted
    assert close_code == code
    assert sock.first == {"type": "error", "code": reason, "message": reason, "ref": None}
    assert not await sync_to_async(AuditEntry.objects.filter(channel="ws").exists)()


@pytest.mark.parametrize("consult_id", [str(uuid.uuid4()), "not-a-uuid"])
async def test_it_closes_4404_when_no_consult_has_the_id(
    cast: Any, ws: Connect, consult_id: str
) -> None:
    accepted, close_code, sock = await ws(cast.nurse, consult_id)
    assert accepted
    assert close_code == 4404
    assert sock.first["code"] == "not_found"


async def test_it_refuses_a_socket_from_a_foreign_origin(cast: Any, consultation: Any) -> None:
    from channels.testing import WebsocketCommunicator

    from telehealth.asgi import application

    communicator = WebsocketCommunicator(
        application,
        f"/ws/consultations/{consultation.external_id}/notes/",
        [(b"origin", b"null")],
    )
    accepted, _ = await communicator.connect()
    assert not accepted
    await communicator.disconnect()


async def test_it_stops_a_participant_removed_mid_call(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    await sync_to_async(cast.nurse.memberships.update)(is_active=False)
    await nurse.send(save_frame("x", edit_id="after-removal"))
    assert (await nurse.expect("error"))["code"] == "access_revoked"
    closed = await nurse.c.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4403}  # as the room's re-check
    assert not await sync_to_async(
        NoteRevision.objects.filter(client_edit_id="after-removal").exists
    )()


async def assess_and_sign(api: Any, cast: Any, consultation: Any, specialist: Any) -> None:
    """The specialist writes an assessment over the socket and signs the report over HTTP."""
    await specialist.send(save_frame("Rung nhĩ", edit_id="a1", section="assessment"))
    await specialist.expect("note.saved")
    signing = await sync_to_async(api(cast.specialist).post)(
        f"/api/v1/consultations/{consultation.external_id}/notes/report/sign/"
    )
    assert signing.status_code == 201


async def test_a_note_save_after_sign_off_is_refused_with_report_signed_and_writes_nothing(
    cast: Any, api: Any, consultation: Any, ws: Connect
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    _, _, specialist = await ws(cast.specialist, consultation)
    await assess_and_sign(api, cast, consultation, specialist)
    await nurse.expect("report.signed")

    await nurse.send(save_frame("Thêm sau khi ký", edit_id="late-1", section="plan"))
    refused = await nurse.expect("error")
    assert refused["code"] == "report_signed"
    assert refused["client_edit_id"] == "late-1"
    await specialist.send(save_frame("Rung nhĩ", edit_id="a1", section="assessment"))
    # Applied before sign-off: its resend (the ack was lost) still answers as applied.
    assert (await specialist.expect("note.saved"))["replayed"] is True

    written = await sync_to_async(
        lambda: (
            NoteRevision.objects.filter(client_edit_id="late-1").exists(),
            AuditEntry.objects.filter(actor=cast.nurse, action="update").exists(),
        )
    )()
    assert written == (False, False)
    await nurse.send({"type": "notes.sync"})
    state = await nurse.expect("notes.state")
    assert state["signed"] is True
    assert {s["section"]: s["revision"] for s in state["sections"]}["plan"] == 0


async def test_a_chat_message_after_sign_off_is_refused_with_report_signed_and_not_broadcast(
    cast: Any, api: Any, consultation: Any, ws: Connect
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    _, _, specialist = await ws(cast.specialist, consultation)
    await nurse.send({"type": "chat.send", "text": "Chào bác sĩ", "client_msg_id": "c1"})
    await specialist.expect("chat.message")
    await assess_and_sign(api, cast, consultation, specialist)
    await specialist.expect("report.signed")

    await nurse.send({"type": "chat.send", "text": "Thêm sau khi ký", "client_msg_id": "c2"})
    refused = await nurse.expect("error")
    assert refused["code"] == "report_signed"
    assert refused["client_msg_id"] == "c2"
    await specialist.send({"type": "chat.sync"})
    # The next frame the other side gets is the state it asked for: no chat.message came first.
    state = await specialist.receive()
    assert state["type"] == "chat.state"
    assert [m["text"] for m in state["messages"]] == ["Chào bác sĩ"]
    assert await sync_to_async(ChatMessage.objects.count)() == 1


async def test_it_refuses_a_note_save_with_an_unknown_field_as_rest_does(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    await nurse.send({**save_frame("x"), "author": "someone else"})
    refused = await nurse.expect("error")
    assert refused["code"] == "unknown_field"
    assert list(refused["fields"]) == ["author"]
    count = await sync_to_async(NoteRevision.objects.count)()
    assert count == 0


async def test_it_takes_the_largest_plan_the_rest_api_takes_even_escaped(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    _, _, specialist = await ws(cast.specialist, consultation)
    text = "ệ" * 10_000  # the section limit, three fields of it
    plan = {"text": text, "medications": text, "tests": text, "disposition": "referral"}
    frame = {**save_frame("", section="plan"), "content": plan}
    escaped = json.dumps(frame)  # ensure_ascii: every character as \uXXXX, ~180 KB
    assert len(escaped.encode()) > 64 * 1024 * 2
    await specialist.c.send_to(text_data=escaped)
    saved = await specialist.expect("note.saved", wait=10)
    assert saved["section"] == "plan"
