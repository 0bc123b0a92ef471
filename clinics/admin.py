from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.contrib import admin
from django.contrib.admin.utils import NestedObjects
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import FieldDoesNotExist
from django.db import models, router
from django.http import HttpRequest, HttpResponse

from clinics.audit import Via, audit_reads
from clinics.models import (
    AuditEntry,
    Consent,
    Department,
    Facility,
    Membership,
    Patient,
    Specialty,
    StationRoom,
    User,
)


def patients_of(objects: Iterable[models.Model]) -> set[UUID]:
    """The patients whose data these rows show: a patient, a row that names one (a consent,
    a consult), an audit entry about one."""
    found: set[UUID] = set()
    by_key: set[int] = set()
    for obj in objects:
        if isinstance(obj, Patient):
            found.add(obj.external_id)
        elif isinstance(obj, AuditEntry):
            if obj.patient_id is not None:
                found.add(obj.patient_id)
        else:
            try:
                field = obj._meta.get_field("patient")
            except FieldDoesNotExist:
                continue
            key = getattr(obj, "patient_id", None)
            if isinstance(field, models.ForeignKey) and field.related_model is Patient and key:
                by_key.add(key)
    found |= set(Patient.objects.filter(pk__in=by_key).values_list("external_id", flat=True))
    return found


def _deleted_with(obj: models.Model) -> list[models.Model]:
    """What a delete confirmation lists: the object, all it takes with it, what protects it."""
    collector = NestedObjects(using=router.db_for_write(type(obj)))
    collector.collect([obj])
    return [o for found in collector.model_objs.values() for o in found] + list(collector.protected)


class AuditedAdmin(admin.ModelAdmin):
    """The admin's pages show patient data like any other page, so each one rendered writes a
    read entry per patient it shows (DESIGN.md): the list, an object's page, its history, and
    a delete confirmation, which lists every row deleted with the object (a station's
    patients, under the station). A write that succeeds redirects and reads nothing."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = _context(response).get("cl")
        if changelist is not None:
            self._audit(request, changelist.result_list)
        return response

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().changeform_view(request, object_id, form_url, extra_context)
        shown = _context(response).get("original")
        if shown is not None:
            self._audit(request, [shown])
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        shown = _context(response).get("object")
        if shown is not None:
            self._audit(request, [shown])
        return response

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().delete_view(request, object_id, extra_context)
        shown = _context(response).get("object")
        if shown is not None:
            self._audit(request, _deleted_with(shown))
        return response

    def _audit(self, request: HttpRequest, objects: Iterable[models.Model]) -> None:
        audit_reads(
            actor=request.user,
            object_type="patient",
            shown=((p, p) for p in patients_of(objects)),
            via=Via.http(request),
        )


def _context(response: HttpResponse) -> dict[str, Any]:
    """A rendered admin page's context; a redirect (a write done, no permission) has none."""
    if response.status_code != 200:
        return {}
    return getattr(response, "context_data", None) or {}


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    list_display = ["username", "full_name", "email", "is_active", "is_staff"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Telehealth", {"fields": ["full_name", "phone"]}),
    )
    # A new password, or a deactivation, revokes the user's API tokens on save
    # (clinics.tokens, whatever the path); their sessions end by Django.


@admin.register(Facility)
class FacilityAdmin(AuditedAdmin):
    list_display = ["code", "name", "kind", "province", "district"]
    list_filter = ["kind", "province"]
    search_fields = ["code", "name"]


@admin.register(Specialty)
class SpecialtyAdmin(AuditedAdmin):
    list_display = ["code", "name_vi", "name_en"]


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ["name", "facility", "specialty"]


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "facility", "role", "licence_number", "is_active"]
    list_filter = ["role", "facility"]
    filter_horizontal = ["specialties"]


@admin.register(StationRoom)
class StationRoomAdmin(AuditedAdmin):
    list_display = ["name", "facility", "is_active"]


@admin.register(Patient)
class PatientAdmin(AuditedAdmin):
    list_display = ["full_name", "station", "date_of_birth", "citizen_id"]
    list_filter = ["station"]
    search_fields = ["full_name", "citizen_id", "insurance_number"]


@admin.register(Consent)
class ConsentAdmin(AuditedAdmin):
    list_display = ["patient", "purpose", "status", "recorded_by", "recorded_at"]
    list_select_related = ["patient", "recorded_by"]
    # A select would list every patient's name on each consent's page.
    raw_id_fields = ["patient"]


@admin.register(AuditEntry)
class AuditEntryAdmin(AuditedAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ["at", "actor", "action", "object_type", "object_id", "channel", "ip"]
    list_filter = ["action", "channel", "object_type"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
