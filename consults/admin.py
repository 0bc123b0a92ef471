from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from clinics.admin import AuditedAdmin
from clinics.models import User
from consults.messaging.models import OutboundMessage
from consults.messaging.queue import message_resend
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


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    """The outbound queue for staff: what was sent, what failed; dead letters resent."""

    list_display = ["created_at", "kind", "channel", "to", "status", "attempts", "provider"]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["to", "provider_id"]
    readonly_fields = [f.name for f in OutboundMessage._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Resend the selected failed messages"))
    def resend(self, request: HttpRequest, queryset: QuerySet[OutboundMessage]) -> None:
        assert isinstance(request.user, User)
        resent = sum(message_resend(message=m, actor=request.user) for m in queryset)
        self.message_user(request, _("%(n)d message(s) queued again.") % {"n": resent})
