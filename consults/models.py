"""What happens: consultations and their lifecycle events.

Capabilities (scheduling, room, notes) keep their models in their own modules, which import
this one; ConsultsConfig.ready registers them (consults/apps.py).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinics.models import Facility, Patient, Specialty, StationRoom, TimestampedModel


class Consultation(TimestampedModel):
    """A consult between a station (with its patient) and a specialist (FHIR Appointment)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        BOOKED = "booked", _("Booked")
        CHECKED_IN = "checked_in", _("Checked in (waiting)")
        IN_PROGRESS = "in_progress", _("In progress")
        INTERRUPTED = "interrupted", _("Interrupted")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")
        FAILED = "failed", _("Failed (technical)")

    class Urgency(models.TextChoices):
        ROUTINE = "routine", _("Routine")
        URGENT = "urgent", _("Urgent")

    class Mode(models.TextChoices):
        VIDEO = "video", _("Video call")
        ASYNC = "async", _("Store-and-forward")

    class Party(models.TextChoices):
        STATION = "station", _("Station")
        SPECIALIST = "specialist", _("Specialist")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consultations")
    station = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    station_room = models.ForeignKey(
        StationRoom, on_delete=models.PROTECT, null=True, blank=True, related_name="consultations"
    )
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations_as_specialist",
    )
    hospital = models.ForeignKey(
        Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOOKED)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.ROUTINE)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.VIDEO)
    reason = models.TextField(_("reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.CharField(max_length=300, blank=True)
    no_show_party = models.CharField(max_length=16, choices=Party.choices, blank=True)
    # End of the specialist's buffer after the consult (null: no buffer). The PostgreSQL
    # exclusion constraint ranges over start..coalesce(buffer_end, end) per specialist.
    buffer_end = models.DateTimeField(null=True, blank=True)
    # RFC 5545 SEQUENCE: bumped on every change a calendar must pick up.
    sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["specialist", "start"]),
            models.Index(fields=["station", "start"]),
            models.Index(fields=["status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__isnull=True) | models.Q(end__gt=models.F("start")),
                name="consultation_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} ↔ {self.specialist} @ {self.start}"


class ConsultationEvent(models.Model):
    """One lifecycle transition: who, when, from, to, why."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=16, choices=Consultation.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Consultation.Status.choices)
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"
