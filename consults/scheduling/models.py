"""Scheduling: specialists' availability, holidays, requests, waitlist, reminders, feeds."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinics.models import Facility, TimestampedModel
from consults.models import Consultation


class SpecialistSchedule(TimestampedModel):
    """A specialist's booking policy. One row per specialist (created on first use)."""

    specialist = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedule"
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Ho_Chi_Minh")
    buffer_minutes = models.PositiveSmallIntegerField(_("buffer after each consult"), default=0)
    min_notice_minutes = models.PositiveIntegerField(_("minimum notice (minutes)"), default=120)
    horizon_days = models.PositiveSmallIntegerField(_("booking horizon (days)"), default=56)
    max_per_day = models.PositiveSmallIntegerField(
        _("maximum consults per day"), null=True, blank=True
    )

    def __str__(self) -> str:
        return f"schedule of {self.specialist}"


class AvailabilityRule(TimestampedModel):
    """Weekly recurring hours, local wall-clock time in the schedule's zone."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability_rules"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=30)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="availability_rule_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(slot_minutes__gte=5), name="availability_rule_slot_min"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.specialist} {self.weekday} {self.start_time}–{self.end_time}"


class AvailabilityOverride(TimestampedModel):
    """One date: a day off, or extra hours on top of the weekly rules."""

    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability_overrides"
    )
    date = models.DateField(_("date"))
    day_off = models.BooleanField(_("day off"), default=False)
    start_time = models.TimeField(_("from"), null=True, blank=True)
    end_time = models.TimeField(_("until"), null=True, blank=True)
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=30)

    class Meta:
        ordering = ["date", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(day_off=True) | models.Q(end_time__gt=models.F("start_time")),
                name="availability_override_hours_or_off",
            )
        ]

    def __str__(self) -> str:
        return f"{self.specialist} {self.date} {'off' if self.day_off else 'extra'}"


class TimeOff(TimestampedModel):
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off"
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="time_off_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.specialist} off {self.start}–{self.end}"


class Holiday(TimestampedModel):
    """A whole local day without consults, added in the admin: a closure of a hospital or
    station (`facility`), or (facility empty) a national day off that the computed public
    holidays (`public_holidays`) do not know, such as a swap announced late."""

    date = models.DateField(_("date"))
    name_vi = models.CharField(_("Vietnamese name"), max_length=150)
    name_en = models.CharField(_("English name"), max_length=150)
    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, null=True, blank=True, related_name="holidays"
    )

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["date"], condition=models.Q(facility=None), name="holiday_unique_national"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name_vi}"


class ConsultRequest(TimestampedModel):
    """A station asks a hospital for a specialty instead of picking a slot (triage)."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for triage")
        NEEDS_INFO = "needs_info", _("More information asked")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    consultation = models.OneToOneField(
        Consultation, on_delete=models.CASCADE, related_name="request"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.WAITING)
    preferred_windows = models.JSONField(default=list, blank=True)
    notes = models.TextField(_("notes for the hospital"), blank=True)
    coordinator_message = models.TextField(blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"request {self.consultation_id} {self.state}"


class WaitlistEntry(TimestampedModel):
    """A booked consult that would take an earlier slot with the same specialist."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("Earlier slot offered")
        TAKEN = "taken", _("Taken")
        CLOSED = "closed", _("Closed")

    consultation = models.OneToOneField(
        Consultation, on_delete=models.CASCADE, related_name="waitlist"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.WAITING)
    offered_start = models.DateTimeField(null=True, blank=True)
    offered_end = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"waitlist {self.consultation_id} {self.state}"


class Reminder(models.Model):
    """One reminder to one party over one channel; claimed by one sender at a time (a lease)."""

    class Kind(models.TextChoices):
        DAY_BEFORE = "24h", _("24 hours before")
        SOON = "15m", _("15 minutes before")

    class Party(models.TextChoices):
        STATION = "station", _("Station")
        SPECIALIST = "specialist", _("Specialist")

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", "SMS"

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped (no address)")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    party = models.CharField(max_length=16, choices=Party.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    # While `sending`: the claiming worker's until this time; past it, any worker may retry.
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.party} {self.channel} {self.status}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """The secret token of a user's iCalendar feed URL; rotating it revokes the old URL."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    rotated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"feed of {self.user}"
