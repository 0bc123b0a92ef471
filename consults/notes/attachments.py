"""Attachments: photos, ECG and X-ray images, PDFs. Allowed by what the bytes are
(magic numbers, then Pillow's own check), never by the file name; kept through Django's
storage API under the "attachments" storage, which is not served as static media."""

import hashlib
import io
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from clinics.audit import Via, audit_record
from clinics.models import AuditEntry, User
from consults.models import Consultation
from consults.notes.models import Attachment
from consults.notes.services import lock_for_notes
from consults.realtime import events
from consults.realtime.send import notes_broadcast
from telehealth.codes import Code
from telehealth.errors import AppError

THUMBNAIL_SIZE = (320, 320)
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
# Refused by name, so the error says why (the allowlist refuses them anyway).
EXECUTABLE_MAGIC = (b"\x7fELF", b"MZ", b"#!", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


def attachments_storage() -> Storage:
    """settings.STORAGES["attachments"]: a local folder, or an S3-compatible bucket. Files are
    reached only through it, by name, never by a path."""
    return storages["attachments"]


def max_bytes() -> int:
    return settings.NOTES_ATTACHMENT_MAX_BYTES


def _refuse(message: object) -> AppError:
    return AppError(
        Code.FILE_TYPE_NOT_ALLOWED, message, status=400, fields={"file": [str(message)]}
    )


@dataclass(frozen=True)
class Sniffed:
    kind: str
    content_type: str
    extension: str


def sniff(data: bytes) -> Sniffed:
    """What the file is, from its bytes. Raises `file_type_not_allowed`."""
    if data.startswith(EXECUTABLE_MAGIC):
        raise _refuse(_("Programs cannot be attached. Attach a photo (JPEG, PNG) or a PDF."))
    if data.startswith(b"%PDF-"):
        return Sniffed(Attachment.Kind.PDF, "application/pdf", "pdf")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            fmt = image.format or ""
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _refuse(_("Only photos (JPEG, PNG) and PDF files can be attached.")) from exc
    if fmt not in IMAGE_FORMATS:
        raise _refuse(_("Only photos (JPEG, PNG) and PDF files can be attached."))
    content_type, extension = IMAGE_FORMATS[fmt]
    return Sniffed(Attachment.Kind.IMAGE, content_type, extension)


def thumbnail_of(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail(THUMBNAIL_SIZE)
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def attachment_add(
    *, consultation: Consultation, upload: UploadedFile, caption: str, actor: User, via: Via
) -> Attachment:
    """Store one file for a consult (participants only, before sign-off)."""
    if upload.size is not None and upload.size > max_bytes():
        raise AppError(
            Code.FILE_TOO_LARGE,
            _("The file is larger than %(mb)d MB.") % {"mb": max_bytes() // (1024 * 1024)},
            fields={"file": [str(_("Too large."))]},
        )
    data = upload.read(max_bytes() + 1)
    if len(data) > max_bytes():
        raise AppError(Code.FILE_TOO_LARGE, _("The file is too large."))
    if not data:
        raise AppError(
            Code.FILE_EMPTY, _("The file is empty."), fields={"file": [str(_("Empty."))]}
        )
    kind = sniff(data)
    if len(caption) > 300:
        raise AppError(Code.INVALID, _("Caption too long."), fields={"caption": ["≤ 300"]})
    storage = attachments_storage()
    stem = f"consults/{consultation.external_id.hex}/{uuid.uuid4().hex}"
    thumb = thumbnail_of(data) if kind.kind == Attachment.Kind.IMAGE else b""
    file_name = storage.save(f"{stem}.{kind.extension}", ContentFile(data))
    thumb_name = storage.save(f"{stem}.thumb.jpg", ContentFile(thumb)) if thumb else ""
    try:
        attachment = _record(
            consultation, kind, data, file_name, thumb_name, upload, caption, actor, via
        )
    except BaseException:
        # Signed meanwhile, or the database failed: leave no orphan file behind.
        for name in filter(None, (file_name, thumb_name)):
            storage.delete(name)
        raise
    return attachment


def _record(
    consultation: Consultation,
    kind: Sniffed,
    data: bytes,
    file_name: str,
    thumb_name: str,
    upload: UploadedFile,
    caption: str,
    actor: User,
    via: Via,
) -> Attachment:
    with transaction.atomic():
        lock_for_notes(consultation)
        attachment = Attachment.objects.create(
            consultation=consultation,
            uploaded_by=actor,
            kind=kind.kind,
            content_type=kind.content_type,
            original_name=(upload.name or "")[:200],
            caption=caption,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            file_name=file_name,
            thumbnail_name=thumb_name,
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            obj=attachment,
            patient=consultation.patient,
            via=via,
        )
        notes_broadcast(consultation.external_id, events.attachment_added(attachment))
    return attachment


def attachment_open(*, attachment: Attachment, thumbnail: bool, actor: User, via: Via) -> bytes:
    """The bytes of a file, audited as an export (a download leaves the system)."""
    name = attachment.thumbnail_name if thumbnail else attachment.file_name
    if not name:
        raise AppError(Code.NO_THUMBNAIL, _("This attachment has no thumbnail."), status=404)
    with attachments_storage().open(name, "rb") as handle:
        data = handle.read()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        obj=attachment,
        patient=attachment.consultation.patient,
        via=via,
    )
    return data
