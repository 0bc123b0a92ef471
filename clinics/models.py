"""Who and where: facilities, people and their roles, station rooms, patients, consent, audit."""

import uuid
from datetime import date
from typing import Any, ClassVar

import pgtrigger
from django import forms
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.names import fold_name
from clinics.validators import phone_national, validate_phone


class PhoneFormField(forms.CharField):
    """Takes a number as typed, cleans it to E.164; shows a stored one in national form."""

    def prepare_value(self, value: Any) -> Any:
        return phone_national(value) if isinstance(value, str) else value

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        return validate_phone(value) if value else ""


class PhoneField(models.CharField):
    """A phone number, stored in E.164 (+84…); the admin's forms take the typed forms."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": PhoneFormField, **kwargs})


class TimestampedModel(models.Model):
    """Public UUID `external_id` (in URLs and payloads) + created/updated timestamps."""

    external_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class User(AbstractUser):
    external_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    phone = PhoneField(_("phone"))

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username


class Facility(TimestampedModel):
    class Kind(models.TextChoices):
        COMMUNE_STATION = "commune_station", _("Commune health station")
        DISTRICT_HOSPITAL = "district_hospital", _("District hospital")
        PROVINCIAL_HOSPITAL = "provincial_hospital", _("Provincial hospital")
        CENTRAL_HOSPITAL = "central_hospital", _("Central hospital")
        HEALTH_DEPARTMENT = "health_department", _("Provincial health department")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    province = models.CharField(_("province"), max_length=100)
    district = models.CharField(_("district"), max_length=100, blank=True)
    commune = models.CharField(_("commune"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    hotline = PhoneField(_("hotline"))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Ho_Chi_Minh")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "facilities"

    def __str__(self) -> str:
        return self.name

    @property
    def is_station(self) -> bool:
        return self.kind == self.Kind.COMMUNE_STATION


class Specialty(TimestampedModel):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_vi = models.CharField(_("Vietnamese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)

    class Meta:
        ordering = ["name_vi"]
        verbose_name_plural = "specialties"

    def __str__(self) -> str:
        return self.name_vi


class Department(TimestampedModel):
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(_("name"), max_length=200)
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        ordering = ["facility__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "name"], name="department_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} — {self.facility.name}"


class Membership(TimestampedModel):
    """A user's role at one facility. Specialists carry specialties and a licence number."""

    class Role(models.TextChoices):
        STATION_STAFF = "station_staff", _("Station staff")
        SPECIALIST = "specialist", _("Specialist")
        COORDINATOR = "coordinator", _("Coordinator")
        ADMIN = "admin", _("Administrator")
        # Held at a provincial health department: that province's programme dashboard and
        # nothing else, no patient data (consults.dashboard.access).
        PROGRAMME_MANAGER = "programme_manager", _("Programme manager (province)")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    department = models.ForeignKey(Department, on_delete=models.SET_NULL, null=True, blank=True)
    specialties = models.ManyToManyField(Specialty, blank=True, related_name="memberships")
    licence_number = models.CharField(_("practising licence number"), max_length=50, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["facility__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "facility", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.facility} ({self.role})"


class StationRoom(TimestampedModel):
    """A station's telehealth endpoint (PC + camera); booked together with each consult."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["facility__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} — {self.facility.name}"


class Patient(TimestampedModel):
    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    station = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="patients")
    full_name = models.CharField(_("full name"), max_length=150)
    # The name as searched and compared for duplicates (clinics.names.fold_name).
    name_folded = models.CharField(max_length=150, editable=False, default="")
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices)
    citizen_id = models.CharField(_("citizen ID (CCCD)"), max_length=12, blank=True)
    insurance_number = models.CharField(
        _("health-insurance number (BHYT)"), max_length=15, blank=True
    )
    phone = PhoneField(_("phone"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    commune = models.CharField(_("commune"), max_length=100, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=50, blank=True)
    guardian_name = models.CharField(_("guardian's name"), max_length=150, blank=True)
    guardian_phone = PhoneField(_("guardian's phone"))
    registered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["full_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "citizen_id"],
                condition=~models.Q(citizen_id=""),
                name="patient_unique_citizen_id_per_station",
            )
        ]
        indexes = [
            models.Index(fields=["station", "full_name"]),
            models.Index(fields=["station", "name_folded", "date_of_birth"]),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A column derived from this row's own name: kept with it on every save, whoever
        # saves (a service, seed_demo, the admin), so a search never misses a patient.
        self.name_folded = fold_name(self.full_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "full_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_folded"}
        super().save(*args, **kwargs)

    def age_on(self, day: date) -> int:
        """Full years on `day` (a birthday on 29 February is reached on 1 March)."""
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class PatientRevision(models.Model):
    """A patient's registration as it was before one edit: what changed, who, when."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="revisions")
    changed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    # {"field": {"old": …, "new": …}} for each field the edit changed (dates as ISO text).
    changes = models.JSONField()

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.patient_id} @ {self.changed_at:%Y-%m-%d %H:%M}"


class Consent(TimestampedModel):
    """Decree 13/2023: consent is explicit, per purpose, and verifiable (who took it, when)."""

    class Purpose(models.TextChoices):
        TELEMEDICINE = "telemedicine", _("Telemedicine consultation")
        RECORDING = "recording", _("Recording")
        DATA_SHARING = "data_sharing", _("Data sharing")
        # Reminders and notices to the patient by SMS or Zalo: a purpose of its own (Decree 13).
        CONTACT = "contact", _("Being contacted by SMS or Zalo")

    class Status(models.TextChoices):
        GIVEN = "given", _("Given")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=32, choices=Purpose.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.patient} — {self.purpose}: {self.status}"


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")


# The only DELETE the audit trigger lets through: a row older than the cutoff that the
# transaction's purge declared (clinics.retention.audit_entries_purge).
AUDIT_PURGE_SETTING = "telehealth.audit_purge_before"
_PURGED = (
    f"coalesce(OLD.at < NULLIF(current_setting('{AUDIT_PURGE_SETTING}', true), '')"
    "::timestamptz, false)"
)


class AuditEntry(models.Model):
    """Append-only record of every read and write of patient data.

    The ORM refuses to change or delete a row (below); on PostgreSQL so does the database,
    whoever sends the SQL (Meta.triggers)."""

    class Action(models.TextChoices):
        READ = "read", _("Read")
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        DELETE = "delete", _("Delete")
        EXPORT = "export", _("Export")

    class Channel(models.TextChoices):
        HTTP = "http", "HTTP"
        WS = "ws", "WebSocket"
        SYSTEM = "system", _("System")

    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=64)
    patient_id = models.UUIDField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    ip = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.HTTP)

    objects: ClassVar[AuditQuerySet] = AuditQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        triggers = [
            pgtrigger.Protect(name="audit_no_update", operation=pgtrigger.Update),
            pgtrigger.Protect(
                name="audit_no_delete",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Condition(f"NOT {_PURGED}"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")


class IdempotencyRecord(models.Model):
    """The first answer to a retried write (Idempotency-Key), replayed for the same key."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    scope = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    # What the answer shows (its kind and public id): a replay asks again whether the
    # user retrying may still see it (clinics.idempotency).
    resource_kind = models.CharField(max_length=40)
    resource_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_unique_key")
        ]
        # The purge reads the oldest rows, a batch at a time.
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_at")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class LoginFailure(models.Model):
    """A failed login: the record an operator reads after a guessing run. The throttle
    counts in LoginBucket, not here."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.username} @ {self.at:%Y-%m-%d %H:%M}"


class LoginBucket(models.Model):
    """Failed logins counted against one limit within one window (clinics/login.py).

    A pair bucket names a username and an address, an account bucket only the username
    (`ip` empty), an address bucket only the address (`username` empty).
    """

    class Kind(models.TextChoices):
        PAIR = "pair"
        ACCOUNT = "account"
        ADDRESS = "address"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    username = models.CharField(max_length=150, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    failures = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField(default=timezone.now)
    # Pair buckets: the last successful login of this username from this address.
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "username", "ip"], name="login_bucket_key")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.username} {self.ip}: {self.failures}"
