"""A consult's Janus room and the tokens the app issued for it."""

from django.conf import settings
from django.db import models

from clinics.models import TimestampedModel
from consults.models import Consultation

__all__ = ["Conference", "ConferenceSeat"]


class Conference(TimestampedModel):
    """The Janus VideoRoom of one consult. `secret` is the room's secret: it never leaves the
    server (edit, kick, destroy need it)."""

    consultation = models.OneToOneField(
        Consultation, on_delete=models.CASCADE, related_name="conference"
    )
    room = models.BigIntegerField(unique=True)
    secret = models.CharField(max_length=64)
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"conference {self.room} of {self.consultation_id}"


class ConferenceSeat(TimestampedModel):
    """One participant's Janus token for one conference, and the publisher id it must join
    with. A revoked seat's token is gone from Janus; a new seat gets a new token."""

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="seats")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    token = models.CharField(max_length=64, unique=True)
    feed = models.BigIntegerField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "user"],
                condition=models.Q(revoked_at__isnull=True),
                name="conference_one_live_seat_per_user",
            ),
            models.UniqueConstraint(fields=["conference", "feed"], name="conference_feed_unique"),
        ]

    def __str__(self) -> str:
        return f"seat {self.feed} in {self.conference_id}"
