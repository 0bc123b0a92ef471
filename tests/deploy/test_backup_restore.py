"""The backup of docs/deploy.md §3 restores: `pg_dump --format=custom` of the database and a
copy of the attachments folder, restored into a fresh database and folder, serve the consult,
its notes and its attachment again through the API of a daphne started on them."""

import io
import json
import shutil
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as dj_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from clinics.audit import Via
from consults.notes.attachments import attachment_add
from consults.notes.services import note_save
from tests.e2e.conftest import PASSWORD
from tests.e2e.servers import Daphne

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def attachments(settings: Any, tmp_path: Path) -> Path:
    location = tmp_path / "attachments"
    settings.STORAGES = {
        **dj_settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    return location


@pytest.fixture
def fresh_database() -> Iterator[str]:
    db = connection.settings_dict
    name = f"{db['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(
        [*pg_args("dropdb"), "--if-exists", name], check=False, capture_output=True, timeout=60
    )


def pg_args(tool: str) -> list[str]:
    db = connection.settings_dict
    return [tool, "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 60)).save(out, "PNG")
    return out.getvalue()


def test_a_dump_and_the_attachments_folder_restore_the_consult_its_notes_and_files(
    cast: Any, consultation: Any, attachments: Path, fresh_database: str, tmp_path: Path
) -> None:
    note_save(
        consultation=consultation,
        section="history",
        content={"text": "Đau ngực trái 2 ngày, khó thở khi gắng sức"},
        base_revision=0,
        actor=cast.nurse,
        via=Via.system(),
    )
    photo = png()
    attachment = attachment_add(
        consultation=consultation,
        upload=SimpleUploadedFile("ecg.png", photo, content_type="image/png"),
        caption="Điện tâm đồ",
        actor=cast.nurse,
        via=Via.system(),
    )

    # The nightly backup: the database, and the attachments folder beside it.
    dump = tmp_path / "telehealth.dump"
    db_name = connection.settings_dict["NAME"]
    subprocess.run(
        [*pg_args("pg_dump"), "--format=custom", "--file", str(dump), db_name],
        check=True,
        timeout=120,
    )
    backup = tmp_path / "backup-attachments"
    shutil.copytree(attachments, backup)

    # The restore, on a new database and folder.
    subprocess.run([*pg_args("createdb"), fresh_database], check=True, timeout=60)
    subprocess.run(
        [*pg_args("pg_restore"), "--no-owner", "--exit-on-error", "-d", fresh_database, str(dump)],
        check=True,
        timeout=120,
    )
    restored = tmp_path / "restored-attachments"
    shutil.copytree(backup, restored)
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
    server = Daphne(
        "restored",
        extra_env={"DATABASE_URL": url + fresh_database, "NOTES_MEDIA_ROOT": str(restored)},
    ).start()
    try:
        token = json.loads(
            post(f"{server.url}/api/v1/auth/token/", {"username": "nurse", "password": PASSWORD})
        )["token"]
        base = f"{server.url}/api/v1/consultations/{consultation.external_id}/"
        assert json.loads(get(base, token))["id"] == str(consultation.external_id)
        notes = json.loads(get(base + "notes/", token))
        assert "Đau ngực trái 2 ngày" in json.dumps(notes, ensure_ascii=False)
        listed = json.loads(get(base + "notes/attachments/", token))
        ids = [a["id"] for a in listed.get("results", listed)]
        assert ids == [str(attachment.external_id)]
        assert get(base + f"notes/attachments/{attachment.external_id}/", token) == photo
    finally:
        server.stop()


def get(url: str, token: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return bytes(r.read())


def post(url: str, body: dict[str, str]) -> bytes:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return bytes(r.read())
