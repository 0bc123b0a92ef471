"""Shared notes of a consult: sections and their revisions, attachments, chat, the signed
report and its addenda, and the store-and-forward hand-off."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinics.models import TimestampedModel
from consults.models import Consultation

__all__ = [
    "Addendum",
    "AsyncCase",
    "Attachment",
    "ChatMessage",
    "NoteRevision",
    "NoteSection",
    "Report",
    "SectionKey",
]


class SectionKey(models.TextChoices):
    HISTORY = "history", _("Reason & history")
    VITALS = "vitals", _("Vitals & examination")
    ASSESSMENT = "assessment", _("Assessment")
    PLAN = "plan", _("Recommendations & plan")
    FOLLOWUP = "followup", _("Follow-up")


class NoteSection(TimestampedModel):
    """The current text of one section; `revision` counts applied writes (0: never written)."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="note_sections"
    )
    key = models.CharField(max_length=16, choices=SectionKey.choices)
    revision = models.PositiveIntegerField(default=0)
    content = models.JSONField(default=dict)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["consultation_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "key"], name="note_section_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} r{self.revision}"


class NoteRevision(models.Model):
    """Every write attempt on a section: applied ones carry a number, refused ones do not,
    so the history names the author of a losing edit too (nothing is lost)."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        CONFLICT = "conflict", _("Refused: based on an old revision")

    section = models.ForeignKey(NoteSection, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(null=True, blank=True)
    base_revision = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    content = models.JSONField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    client_edit_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=8, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "number"],
                condition=models.Q(number__isnull=False),
                name="note_revision_unique_number",
            ),
            # A client edit id names one applied edit of a section, whoever sends it again:
            # a retry is answered with that edit, never applied twice (services.note_save).
            models.UniqueConstraint(
                fields=["section", "client_edit_id"],
                condition=models.Q(outcome="applied") & ~models.Q(client_edit_id=""),
                name="note_revision_unique_client_edit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.section.key} {self.outcome} r{self.number}"


class Attachment(TimestampedModel):
    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        PDF = "pdf", _("PDF document")

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    content_type = models.CharField(max_length=64)
    original_name = models.CharField(max_length=200, blank=True)
    caption = models.CharField(max_length=300, blank=True)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # Names in the notes storage (Django's storage API), never served as static media.
    file_name = models.CharField(max_length=300)
    thumbnail_name = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name or str(self.external_id)


class ChatMessage(TimestampedModel):
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="chat_messages"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    client_msg_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # As a client edit id: one message per id in the consult, whoever resends it.
            models.UniqueConstraint(
                fields=["consultation", "client_msg_id"],
                condition=~models.Q(client_msg_id=""),
                name="chat_unique_client_msg",
            )
        ]

    def __str__(self) -> str:
        return self.text[:40]


class Report(TimestampedModel):
    """The signed consult report. `snapshot` is frozen at signing: never updated."""

    consultation = models.OneToOneField(
        Consultation, on_delete=models.PROTECT, related_name="report"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    licence_number = models.CharField(max_length=50, blank=True)
    snapshot = models.JSONField()

    def __str__(self) -> str:
        return f"report {self.external_id}"


class Addendum(TimestampedModel):
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "addenda"

    def __str__(self) -> str:
        return self.text[:40]


class AsyncCase(TimestampedModel):
    """Store-and-forward hand-off of a `mode=async` consult: the station submits,
    the specialist answers (by signing) before `due_at`."""

    consultation = models.OneToOneField(
        Consultation, on_delete=models.CASCADE, related_name="async_case"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField()
    due_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"async {self.consultation_id}"
