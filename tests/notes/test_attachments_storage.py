"""Attachments live wherever STORAGES["attachments"] says: here Django's in-memory storage,
as a bucket would be, with no file on this host's disk."""

from typing import Any

import pytest
from django.conf import settings as dj_settings
from django.core.files.storage import storages

from consults.notes.models import Attachment
from tests.notes.conftest import notes_url
from tests.notes.test_attachments import png_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_memory(settings: Any, notes_storage: Any) -> Any:
    settings.STORAGES = {
        **dj_settings.STORAGES,
        "attachments": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    return storages["attachments"]


def test_an_upload_and_its_download_go_through_the_configured_storage(
    cast: Any, api: Any, consultation: Any, in_memory: Any, notes_storage: Any
) -> None:
    data = png_bytes((64, 48))
    r = upload(api, cast.nurse, consultation, "ecg.png", data)
    assert r.status_code == 201, r.json()
    attachment = Attachment.objects.get(external_id=r.json()["id"])
    assert in_memory.exists(attachment.file_name)
    assert in_memory.exists(attachment.thumbnail_name)
    assert not notes_storage.exists()  # nothing written to the local folder

    download = api(cast.specialist).get(notes_url(consultation, f"attachments/{r.json()['id']}/"))
    assert download.status_code == 200
    assert download.content == data
