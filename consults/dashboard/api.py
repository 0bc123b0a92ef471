"""GET /api/v1/dashboard/ (JSON) and /api/v1/dashboard.csv: administrators (the whole
programme) and programme managers (their province)."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.serializers import FacilityRefSerializer
from consults.dashboard import export
from consults.dashboard.access import DashboardScope, dashboard_scope_get
from consults.dashboard.query import MONTH_PATTERN, DashboardQuery, dashboard_query
from consults.dashboard.selectors import GROUPS, URGENT_TARGET, Row, dashboard_rows
from telehealth.auth import request_user


class DashboardRowSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM, local (facility) time")
    facility = FacilityRefSerializer()
    requested = serializers.IntegerField()
    booked = serializers.IntegerField()
    completed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    no_show_station = serializers.IntegerField()
    no_show_specialist = serializers.IntegerField()
    failed = serializers.IntegerField()
    median_wait_hours = serializers.FloatField(allow_null=True)
    quality_consults = serializers.IntegerField()
    median_rtt_ms = serializers.FloatField(allow_null=True)
    median_loss_pct = serializers.FloatField(allow_null=True)
    audio_only_share = serializers.FloatField(allow_null=True)
    urgent_requests = serializers.IntegerField()
    urgent_within_target = serializers.IntegerField()
    urgent_within_target_share = serializers.FloatField(allow_null=True)


class DashboardSerializer(serializers.Serializer):
    from_month = serializers.CharField()
    to = serializers.CharField()
    group = serializers.ChoiceField(choices=GROUPS)
    provinces = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="The provinces whose stations' consults are counted; null: the whole programme",
    )
    urgent_target_minutes = serializers.IntegerField()
    rows = DashboardRowSerializer(many=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_month")
        return fields


PARAMETERS = [
    OpenApiParameter(
        "from", str, pattern=MONTH_PATTERN, description="First month, YYYY-MM (default: to − 11)"
    ),
    OpenApiParameter(
        "to", str, pattern=MONTH_PATTERN, description="Last month, YYYY-MM (default: this month)"
    ),
    OpenApiParameter("group", str, enum=list(GROUPS), description="Rows per station or hospital"),
]


def _visible_rows(request: Request) -> tuple[DashboardQuery, DashboardScope, list[Row]]:
    scope = dashboard_scope_get(request_user(request))
    query = dashboard_query(request.query_params)
    rows = dashboard_rows(first=query.first, last=query.last, group=query.group, scope=scope)
    return query, scope, rows


class DashboardView(APIView):
    """Monthly programme figures per station or per hospital (docs/dashboard.md)."""

    @extend_schema(parameters=PARAMETERS, responses=DashboardSerializer)
    def get(self, request: Request) -> Response:
        query, scope, rows = _visible_rows(request)
        return Response(
            {
                **query.as_params(),
                "provinces": export.provinces_json(scope),
                "urgent_target_minutes": int(URGENT_TARGET.total_seconds() // 60),
                "rows": [export.row_json(r) for r in rows],
            }
        )


class DashboardCsvView(APIView):
    """The same rows as CSV (UTF-8 with BOM) for Excel."""

    @extend_schema(
        operation_id="v1_dashboard_csv",
        parameters=PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> HttpResponse:
        query, _scope, rows = _visible_rows(request)
        response = HttpResponse(export.rows_csv(rows), content_type="text/csv; charset=utf-8")
        name = f"dashboard-{query.group}-{query.first:%Y-%m}-{query.last:%Y-%m}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
