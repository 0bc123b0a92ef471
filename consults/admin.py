from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from clinics.admin import AuditedAdmin
from consults.scheduling import public_holidays
from consults.scheduling.models import Holiday


@admin.register(Holiday)
class HolidayAdmin(AuditedAdmin):
    """Closures of a hospital or station, and national days off the package does not know;
    the computed national holidays of this year and the next are listed above the rows."""

    list_display = ["date", "name_vi", "facility"]
    list_filter = ["facility"]
    date_hierarchy = "date"
    search_fields = ["name_vi", "facility__name"]
    autocomplete_fields = ["facility"]
    change_list_template = "admin/consults/holiday/change_list.html"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        today = timezone.localdate()
        national = public_holidays.national_holidays(
            today.replace(month=1, day=1), today.replace(year=today.year + 1, month=12, day=31)
        )
        context = {**(extra_context or {}), "national_holidays": sorted(national.items())}
        return super().changelist_view(request, context)
