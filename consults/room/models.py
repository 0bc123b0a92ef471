"""The live room's records: guest invitations, room tickets, presence, call quality."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinics.models import TimestampedModel
from consults.models import Consultation

__all__ = ["CallQualityReport", "GuestInvite", "RoomPeer", "RoomState", "RoomTicket"]


class GuestInvite(TimestampedModel):
    """A signed, single-consult, time-limited invitation for someone without an account."""

    class Kind(models.TextChoices):
        SPECIALIST = "specialist", _("Second specialist")
        INTERPRETER = "interpreter", _("Interpreter")

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="guest_invites"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    display_name = models.CharField(max_length=80, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} guest of {self.consultation_id}"


class RoomTicket(models.Model):
    """A single-use, 60-second credential for one participant of one consult's room."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    guest = models.ForeignKey(
        GuestInvite, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # Only a hash is stored: a database dump cannot be replayed into a room.
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ticket for {self.consultation_id}"


class RoomState(models.Model):
    """One row per room: the presence revision, and the lock that serializes joins."""

    consultation = models.OneToOneField(
        Consultation, on_delete=models.CASCADE, related_name="room_state"
    )
    rev = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"room {self.consultation_id} rev {self.rev}"


class RoomPeer(models.Model):
    """A live connection in a room. Shared by every daphne process; expires by heartbeat."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="+")
    peer_id = models.CharField(max_length=64, unique=True)
    member = models.CharField(max_length=64)  # "u:<user uuid>" or "g:<invite uuid>"
    role = models.CharField(max_length=16)
    name = models.CharField(max_length=150)
    channel_name = models.CharField(max_length=200)
    joined_rev = models.PositiveBigIntegerField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "member"], name="room_peer_one_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.peer_id} ({self.role})"


class CallQualityReport(models.Model):
    """A participant's link quality summary, sent about every 10 s during the call."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="quality_reports"
    )
    peer_id = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    guest = models.ForeignKey(
        GuestInvite, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    role = models.CharField(max_length=16)
    rtt_ms = models.FloatField(null=True, blank=True)
    loss_pct = models.FloatField(null=True, blank=True)
    bitrate_kbps = models.FloatField(null=True, blank=True)
    audio_only_s = models.PositiveIntegerField(default=0)
    video = models.BooleanField(default=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["consultation", "at"])]

    def __str__(self) -> str:
        return f"{self.role} {self.at}"
