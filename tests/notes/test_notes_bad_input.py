"""Text the database cannot store, and revision numbers no column holds, are field errors on
both channels (REST and the notes socket), with the same code and path, and write nothing.
On the socket the refusal is an `error` frame: the connection stays open, so the good edits
a client queued behind a bad one still land."""

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from clinics.models import AuditEntry
from consults.notes.models import ChatMessage, NoteRevision, NoteSection
from tests.notes.conftest import Connect, Socket, edit, notes_url, section_url

BAD_TEXT = ["Sốt\x00", "Sốt\ud800", "\udc00"]
BAD_REVISIONS = [2**31, 2**63, 10**30, -1]


def rows() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (NoteRevision, NoteSection, ChatMessage, AuditEntry))


def put_raw(client: Any, url: str, body: dict[str, Any]) -> Any:
    # json.dumps escapes a lone surrogate (\ud800), as a hostile client sends it.
    return client.put(url, json.dumps(body), content_type="application/json")


def field_error(body: dict[str, Any], path: str) -> None:
    assert body["code"] == "invalid", body
    assert list(body["fields"]) == [path], body
    assert body["fields"][path][0].startswith("Có ký tự không lưu được (U+")


# --- REST --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("bad", BAD_TEXT)
def test_rest_refuses_unstorable_note_text_by_its_path(
    cast: Any, api: Any, consultation: Any, bad: str
) -> None:
    before = rows()
    r = put_raw(api(cast.nurse), section_url(consultation, "history"), edit(bad))
    assert r.status_code == 400
    field_error(r.json(), "content.text")
    assert rows() == before


@pytest.mark.django_db
def test_rest_refuses_an_unstorable_client_edit_id(cast: Any, api: Any, consultation: Any) -> None:
    before = rows()
    r = put_raw(api(cast.nurse), section_url(consultation, "plan"), edit(edit_id="e\x00"))
    assert r.status_code == 400
    field_error(r.json(), "client_edit_id")
    assert rows() == before


@pytest.mark.django_db
@pytest.mark.parametrize("base", BAD_REVISIONS)
def test_rest_refuses_a_revision_no_column_holds(
    cast: Any, api: Any, consultation: Any, base: int
) -> None:
    before = rows()
    r = put_raw(api(cast.nurse), section_url(consultation, "history"), edit(base=base))
    assert r.status_code == 400
    assert r.json()["code"] == "invalid"
    assert list(r.json()["fields"]) == ["base_revision"]
    assert rows() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"text": "Chào\x00"}, "text"),
        ({"text": "Chào", "client_msg_id": "\ud800"}, "client_msg_id"),
    ],
)
def test_rest_refuses_an_unstorable_chat_line(
    cast: Any, api: Any, consultation: Any, body: dict[str, Any], path: str
) -> None:
    before = rows()
    r = api(cast.nurse).post(
        notes_url(consultation, "chat/"), json.dumps(body), content_type="application/json"
    )
    assert r.status_code == 400
    field_error(r.json(), path)
    assert rows() == before


@pytest.mark.django_db
def test_the_outsider_gets_404_before_the_body_is_read(
    cast: Any, api: Any, consultation: Any
) -> None:
    r = put_raw(api(cast.outsider_nurse), section_url(consultation, "history"), edit("x\x00"))
    assert r.status_code == 404


# --- the notes socket ---------------------------------------------------------------------


async def refused_then_open(
    sock: Socket, bad: dict[str, Any], good: dict[str, Any], done: str
) -> dict[str, Any]:
    """Send `bad`, read its error frame, then prove the socket still works with `good`."""
    count = sync_to_async(rows)
    before = await count()
    await sock.send(bad)
    refused = await sock.expect("error")
    assert await count() == before
    await sock.send(good)
    await sock.expect(done)
    return refused


def save(text: str = "Sốt 3 ngày", base: Any = 0, edit_id: str = "e1") -> dict[str, Any]:
    return {
        "type": "note.save",
        "section": "history",
        "content": {"text": text},
        "base_revision": base,
        "client_edit_id": edit_id,
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("bad", BAD_TEXT)
async def test_the_socket_refuses_unstorable_note_text_and_stays_open(
    cast: Any, consultation: Any, ws: Connect, bad: str
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    refused = await refused_then_open(
        nurse, save(bad, edit_id="bad"), save(edit_id="good"), "note.saved"
    )
    field_error(refused, "content.text")
    assert refused["client_edit_id"] == "bad"  # the page drops that edit from its queue


@pytest.mark.django_db(transaction=True)
async def test_the_socket_refuses_a_nul_in_client_edit_id(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    refused = await refused_then_open(nurse, save(edit_id="e\x00"), save(), "note.saved")
    field_error(refused, "client_edit_id")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("base", BAD_REVISIONS)
async def test_the_socket_refuses_a_revision_no_column_holds(
    cast: Any, consultation: Any, ws: Connect, base: int
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    refused = await refused_then_open(nurse, save(base=base), save(edit_id="e2"), "note.saved")
    assert refused["code"] == "invalid"
    assert list(refused["fields"]) == ["base_revision"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("frame", "path"),
    [
        ({"text": "Chào\x00"}, "text"),
        ({"text": "Chào\ud800"}, "text"),
        ({"text": "Chào", "client_msg_id": "m\x00"}, "client_msg_id"),
    ],
)
async def test_the_socket_refuses_an_unstorable_chat_line_and_stays_open(
    cast: Any, consultation: Any, ws: Connect, frame: dict[str, Any], path: str
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    good = {"type": "chat.send", "text": "Chào bác sĩ", "client_msg_id": "ok"}
    refused = await refused_then_open(nurse, {"type": "chat.send", **frame}, good, "chat.sent")
    field_error(refused, path)


@pytest.mark.django_db(transaction=True)
async def test_queued_edits_behind_a_bad_one_all_land_on_one_connection(
    cast: Any, consultation: Any, ws: Connect
) -> None:
    # What the notes page does on reconnect: resend every pending edit, in order.
    _, _, nurse = await ws(cast.nurse, consultation)
    await nurse.send(save("pasted\x00", edit_id="p1"))
    await nurse.send({**save("Đau ngực", edit_id="p2"), "section": "assessment"})
    await nurse.send({**save("Theo dõi", edit_id="p3"), "section": "plan"})
    answers: list[tuple[str, str]] = []
    while len(answers) < 3:  # the sender also sees its own note.updated broadcasts
        frame = await nurse.receive()
        if frame["type"] in ("error", "note.saved"):
            answers.append((frame["type"], frame["client_edit_id"]))
    assert answers == [("error", "p1"), ("note.saved", "p2"), ("note.saved", "p3")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("depth", [33, 30_000])
async def test_the_socket_refuses_json_nested_deeper_than_any_frame_as_malformed(
    cast: Any, consultation: Any, ws: Connect, depth: int
) -> None:
    _, _, nurse = await ws(cast.nurse, consultation)
    deep = '{"type": "note.save", "content": ' + "[" * depth + "]" * depth + "}"
    for text in ("[" * depth, deep):
        await nurse.c.send_to(text_data=text)
        refused = await nurse.expect("error")
        assert refused["code"] == "malformed", refused
    await nurse.send(save())
    await nurse.expect("note.saved")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("edit_id", [None, ""])
async def test_the_socket_requires_client_edit_id_as_rest_does(
    cast: Any, api: Any, consultation: Any, ws: Connect, edit_id: str | None
) -> None:
    frame = save()
    body = edit()
    if edit_id is None:
        del frame["client_edit_id"], body["client_edit_id"]
    else:
        frame["client_edit_id"] = body["client_edit_id"] = edit_id
    rest = await sync_to_async(put_raw)(api(cast.nurse), section_url(consultation, "plan"), body)
    assert rest.status_code == 400
    _, _, nurse = await ws(cast.nurse, consultation)
    refused = await refused_then_open(nurse, frame, save(edit_id="e2"), "note.saved")
    assert refused["code"] == rest.json()["code"] == "invalid"
    assert refused["fields"] == rest.json()["fields"]
    assert list(refused["fields"]) == ["client_edit_id"]
