"""Attachments: allowed by their bytes, not their name; thumbnails; private downloads."""

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from clinics.models import AuditEntry
from consults.notes.models import Attachment
from tests.notes.conftest import notes_url

pytestmark = pytest.mark.django_db


def png_bytes(size: tuple[int, int] = (1200, 800)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 60)).save(out, "PNG")
    return out.getvalue()


def upload(api: Any, user: Any, consultation: Any, name: str, data: bytes, **extra: Any) -> Any:
    return api(user).post(
        notes_url(consultation, "attachments/"),
        {"file": SimpleUploadedFile(name, data, content_type="image/jpeg"), **extra},
        format="multipart",
    )


@pytest.mark.parametrize(
    "header", [b"\x7fELF\x02\x01\x01\x00", b"MZ\x90\x00\x03\x00\x00\x00", b"#!/bin/sh\n"]
)
def test_it_refuses_an_executable_renamed_jpg(
    cast: Any, api: Any, consultation: Any, header: bytes
) -> None:
    r = upload(api, cast.nurse, consultation, "wound.jpg", header + b"\x00" * 512)
    assert r.status_code == 400
    assert r.json()["code"] == "file_type_not_allowed"
    assert not Attachment.objects.exists()


def test_it_refuses_text_pretending_to_be_a_photo(cast: Any, api: Any, consultation: Any) -> None:
    r = upload(api, cast.nurse, consultation, "photo.jpg", b"hello, I am not a photo")
    assert r.json()["code"] == "file_type_not_allowed"


def test_an_allowed_image_gets_a_thumbnail(
    cast: Any, api: Any, consultation: Any, notes_storage: Any
) -> None:
    r = upload(api, cast.nurse, consultation, "IMG_0001.weird", png_bytes(), caption="Vết loét")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["kind"] == "image"
    assert body["content_type"] == "image/png"
    assert body["has_thumbnail"] is True
    thumb = api(cast.specialist).get(
        notes_url(consultation, f"attachments/{body['id']}/thumbnail/")
    )
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert max(image.size) <= 320
    assert any(notes_storage.rglob("*.thumb.jpg"))


def test_a_pdf_is_accepted_by_its_header(cast: Any, api: Any, consultation: Any) -> None:
    r = upload(api, cast.nurse, consultation, "ecg.jpg", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n")
    assert r.status_code == 201
    assert r.json()["kind"] == "pdf"
    assert r.json()["has_thumbnail"] is False


def test_it_refuses_a_file_over_the_size_limit(
    cast: Any, api: Any, consultation: Any, settings: Any
) -> None:
    settings.NOTES_ATTACHMENT_MAX_BYTES = 1024
    r = upload(api, cast.nurse, consultation, "big.png", png_bytes())
    assert r.status_code == 400
    assert r.json()["code"] == "file_too_large"


def test_it_refuses_an_upload_without_a_file(cast: Any, api: Any, consultation: Any) -> None:
    r = api(cast.nurse).post(notes_url(consultation, "attachments/"), {}, format="multipart")
    assert r.status_code == 400
    assert "file" in r.json()["fields"]


def test_participants_download_and_each_download_is_audited(
    cast: Any, api: Any, consultation: Any
) -> None:
    data = png_bytes((50, 50))
    attachment_id = upload(api, cast.nurse, consultation, "a.png", data).json()["id"]
    for _ in range(2):
        r = api(cast.specialist).get(notes_url(consultation, f"attachments/{attachment_id}/"))
        assert r.status_code == 200
        assert r.content == data
        assert r["Cache-Control"] == "private, no-store"
    exports = AuditEntry.objects.filter(
        actor=cast.specialist, action="export", object_type="attachment", object_id=attachment_id
    )
    assert exports.count() == 2


@pytest.mark.parametrize(
    "who", ["outsider_nurse", "other_specialist", "coordinator", "other_coordinator"]
)
def test_only_participants_can_download(cast: Any, api: Any, consultation: Any, who: str) -> None:
    attachment_id = upload(api, cast.nurse, consultation, "a.png", png_bytes((20, 20))).json()["id"]
    for rest in (
        f"attachments/{attachment_id}/",
        f"attachments/{attachment_id}/thumbnail/",
        "attachments/",
    ):
        assert api(getattr(cast, who)).get(notes_url(consultation, rest)).status_code == 404


@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_a_reader_who_is_not_on_the_consult_cannot_even_upload(
    cast: Any, api: Any, consultation: Any, who: str
) -> None:
    """The attachments exist for the participants only: 404 to an upload too, as to a
    download, although this reader sees the consult and its notes (docs/decisions.md 21)."""
    assert api(getattr(cast, who)).get(notes_url(consultation, "")).status_code == 200
    r = upload(api, getattr(cast, who), consultation, "a.png", png_bytes((20, 20)))
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    assert not Attachment.objects.exists()


def test_an_unknown_attachment_id_is_404(cast: Any, api: Any, consultation: Any) -> None:
    r = api(cast.nurse).get(notes_url(consultation, "attachments/not-a-uuid/"))
    assert r.status_code == 404


def upload_twice(api: Any, user: Any, consultation: Any, key: str, *images: bytes) -> list[Any]:
    """Upload "a.png" once per image, each time under the same Idempotency-Key."""
    client = api(user)
    return [
        client.post(
            notes_url(consultation, "attachments/"),
            {"file": SimpleUploadedFile("a.png", image)},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY=key,
        )
        for image in images
    ]


def test_a_retried_upload_with_the_same_idempotency_key_stores_one_file(
    cast: Any, api: Any, consultation: Any
) -> None:
    data = png_bytes((40, 40))
    answers = upload_twice(api, cast.nurse, consultation, "upload-1", data, data)
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1]["Idempotent-Replay"] == "true"
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert Attachment.objects.count() == 1


def test_another_file_under_a_used_idempotency_key_is_refused_not_replayed(
    cast: Any, api: Any, consultation: Any
) -> None:
    other = png_bytes((60, 60))  # the same name, another image
    answers = upload_twice(api, cast.nurse, consultation, "upload-3", png_bytes((40, 40)), other)
    assert [a.status_code for a in answers] == [201, 409]
    assert answers[1].json()["code"] == "idempotency_key_reused"
    assert Attachment.objects.count() == 1


def test_a_replayed_upload_is_audited_as_a_read_of_the_attachment(
    cast: Any, api: Any, consultation: Any
) -> None:
    data = png_bytes((40, 40))
    answers = upload_twice(api, cast.nurse, consultation, "upload-2", data, data)
    [read] = AuditEntry.objects.filter(action="read")
    assert (read.object_type, read.object_id) == ("attachment", answers[0].json()["id"])
    assert (read.actor, read.patient_id) == (cast.nurse, cast.patient.external_id)
