import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from clinics.models import Patient
from consults.models import Consultation


class OutboundMessage(models.Model):
    """One message to one address. Claimed by one worker at a time (a lease); its
    `idempotency_key` makes a second enqueue of the same message a no-op, and is what the
    provider receives as its request id, so a retried send is not a second message."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", "SMS"
        # Zalo ZNS first, SMS to the same number if Zalo refuses or fails.
        ZALO = "zalo", "Zalo"

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed, will retry")
        DEAD = "dead", _("Failed, given up")
        CANCELLED = "cancelled", _("Cancelled")

    external_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # Zalo ZNS template parameters (the template itself is a setting).
    params = models.JSONField(default=dict, blank=True)
    kind = models.CharField(max_length=32, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    # Set for a message to a patient: the worker re-checks the consent to be contacted.
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # While `sending`: the claiming worker's until this time; past it, any worker may resume.
    lease_until = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=16, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["next_attempt_at", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["provider", "provider_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} {self.status}"
