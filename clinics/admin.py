from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from clinics.login import login_check
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
from clinics.tokens import api_tokens_revoke_all
from telehealth.errors import AppError


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form and page, checked by the one login throttle (clinics.login)."""

    @sensitive_variables("password")
    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            assert self.request is not None  # the admin's LoginView always passes it
            try:
                self.user_cache = login_check(self.request, username=username, password=password)
            except AppError as exc:
                if exc.code == "throttled":
                    raise ValidationError(exc.message, code="throttled") from exc
                raise self.get_invalid_login_error() from exc
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


admin.site.login_form = ThrottledAdminAuthenticationForm


class RevokingPasswordChangeForm(AdminPasswordChangeForm):
    """A new password logs the user out of every API client (their sessions end by Django)."""

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit)
        api_tokens_revoke_all(user=user)
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "email", "is_active", "is_staff"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Telehealth", {"fields": ["full_name", "phone"]}),
    )
    change_password_form = RevokingPasswordChangeForm

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Authentication refuses an inactive user's tokens already; deleting them means
        # reactivating the account does not bring a lost device back.
        if change and "is_active" in form.changed_data and not obj.is_active:
            api_tokens_revoke_all(user=obj)


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "province", "district"]
    list_filter = ["kind", "province"]
    search_fields = ["code", "name"]


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["code", "name_vi", "name_en"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "facility", "specialty"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "facility", "role", "licence_number", "is_active"]
    list_filter = ["role", "facility"]
    filter_horizontal = ["specialties"]


@admin.register(StationRoom)
class StationRoomAdmin(admin.ModelAdmin):
    list_display = ["name", "facility", "is_active"]


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["full_name", "station", "date_of_birth", "citizen_id"]
    list_filter = ["station"]
    search_fields = ["full_name", "citizen_id", "insurance_number"]


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ["patient", "purpose", "status", "recorded_by", "recorded_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ["at", "actor", "action", "object_type", "object_id", "channel", "ip"]
    list_filter = ["action", "channel", "object_type"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
