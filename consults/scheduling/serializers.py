from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from clinics.serializers import FacilityRefSerializer, SpecialtySerializer, UserRefSerializer
from consults.models import Consultation
from consults.scheduling.models import (
    AvailabilityOverride,
    AvailabilityRule,
    ConsultRequest,
    SpecialistSchedule,
    TimeOff,
    WaitlistEntry,
)
from telehealth.errors import invalid
from telehealth.serializers import StrictSerializer


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an explicit offset on input; a naive time is refused, not guessed."""

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # well formed but impossible (minute 99): DRF says so below
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                raise serializers.ValidationError(_("Give the time with its UTC offset."))
        return super().to_internal_value(value)


class ConsultPatientSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="external_id", read_only=True)
    full_name = serializers.CharField(read_only=True)


class StationRoomRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="external_id", read_only=True)
    name = serializers.CharField(read_only=True)


class ConsultationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="external_id", read_only=True)
    patient = ConsultPatientSerializer(read_only=True)
    station = FacilityRefSerializer(read_only=True)
    station_room = StationRoomRefSerializer(read_only=True, allow_null=True)
    specialist = UserRefSerializer(read_only=True, allow_null=True)
    hospital = FacilityRefSerializer(read_only=True, allow_null=True)
    specialty = SpecialtySerializer(read_only=True)
    no_show_party = serializers.CharField(read_only=True)

    class Meta:
        model = Consultation
        fields = [
            "id",
            "status",
            "patient",
            "station",
            "station_room",
            "specialist",
            "hospital",
            "specialty",
            "start",
            "end",
            "urgency",
            "mode",
            "reason",
            "cancel_reason",
            "no_show_party",
            "created_at",
        ]
        read_only_fields = fields


class BookingSerializer(StrictSerializer):
    patient = serializers.UUIDField()
    specialist = serializers.UUIDField()
    specialty = serializers.CharField(required=False, max_length=50)
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    station_room = serializers.UUIDField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    urgency = serializers.ChoiceField(
        choices=Consultation.Urgency.choices, default=Consultation.Urgency.ROUTINE
    )
    mode = serializers.ChoiceField(
        choices=Consultation.Mode.choices, default=Consultation.Mode.VIDEO
    )


class RangeSerializer(StrictSerializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class CancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300)


class NoShowSerializer(StrictSerializer):
    party = serializers.ChoiceField(choices=Consultation.Party.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class ScheduleSerializer(serializers.ModelSerializer):
    """A specialist's booking policy, within the bounds slot search is built for."""

    buffer_minutes = serializers.IntegerField(min_value=0, max_value=120)
    min_notice_minutes = serializers.IntegerField(min_value=0)
    horizon_days = serializers.IntegerField(min_value=1, max_value=365)
    max_per_day = serializers.IntegerField(min_value=1, allow_null=True, required=False)

    class Meta:
        model = SpecialistSchedule
        fields = [
            "time_zone",
            "buffer_minutes",
            "min_notice_minutes",
            "horizon_days",
            "max_per_day",
        ]


class RuleSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="external_id", read_only=True)

    class Meta:
        model = AvailabilityRule
        fields = [
            "id",
            "weekday",
            "start_time",
            "end_time",
            "slot_minutes",
            "valid_from",
            "valid_until",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end_time"] <= attrs["start_time"]:
            raise serializers.ValidationError({"end_time": [_("Must be after the start.")]})
        if not 5 <= attrs.get("slot_minutes", 30) <= 240:
            raise serializers.ValidationError({"slot_minutes": [_("Between 5 and 240 minutes.")]})
        return attrs


class OverrideSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="external_id", read_only=True)

    class Meta:
        model = AvailabilityOverride
        fields = ["id", "date", "day_off", "start_time", "end_time", "slot_minutes"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("day_off"):
            start, end = attrs.get("start_time"), attrs.get("end_time")
            if start is None or end is None or end <= start:
                raise serializers.ValidationError(
                    {"end_time": [_("Give hours (end after start), or mark a day off.")]}
                )
        return attrs


class TimeOffSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="external_id", read_only=True)
    start = AwareDateTimeField()
    end = AwareDateTimeField()

    class Meta:
        model = TimeOff
        fields = ["id", "start", "end", "reason"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": [_("Must be after the start.")]})
        return attrs


class RequestSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="consultation.external_id", read_only=True)
    consultation = ConsultationSerializer(read_only=True)
    waiting_minutes = serializers.SerializerMethodField()

    class Meta:
        model = ConsultRequest
        fields = [
            "id",
            "state",
            "consultation",
            "preferred_windows",
            "notes",
            "coordinator_message",
            "waiting_minutes",
            "created_at",
        ]
        read_only_fields = fields

    def get_waiting_minutes(self, obj: ConsultRequest) -> int:
        return int((timezone.now() - obj.created_at).total_seconds() // 60)


class WindowSerializer(StrictSerializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()


class RequestCreateSerializer(StrictSerializer):
    patient = serializers.UUIDField()
    specialty = serializers.CharField(max_length=50)
    hospital = serializers.UUIDField()
    reason = serializers.CharField(max_length=2000)
    urgency = serializers.ChoiceField(
        choices=Consultation.Urgency.choices, default=Consultation.Urgency.ROUTINE
    )
    preferred_windows = WindowSerializer(many=True, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class AcceptSerializer(StrictSerializer):
    specialist = serializers.UUIDField()
    start = AwareDateTimeField()
    end = AwareDateTimeField()


class MessageSerializer(StrictSerializer):
    message = serializers.CharField(max_length=2000)


class WaitlistSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="external_id", read_only=True)
    consultation = serializers.UUIDField(source="consultation.external_id", read_only=True)

    class Meta:
        model = WaitlistEntry
        fields = ["id", "consultation", "state", "offered_start", "offered_end"]
        read_only_fields = fields


class SlotSerializer(serializers.Serializer):
    specialist = UserRefSerializer()
    hospital = FacilityRefSerializer()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class SlotPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = SlotSerializer(many=True)


class FeedUrlSerializer(serializers.Serializer):
    url = serializers.URLField()


def query_params(serializer_class: type[serializers.Serializer], params: Any) -> dict[str, Any]:
    """Validate query parameters like a body: each at most once, typed, or a 400."""
    repeated = sorted(k for k in params if len(params.getlist(k)) > 1)
    if repeated:
        raise invalid({k: [str(_("Give this parameter once."))] for k in repeated})
    body = serializer_class(data={k: params.get(k) for k in params})
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


class _FromTo(serializers.Serializer):
    """`from` is a Python keyword: the field is added by name."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = AwareDateTimeField(required=False)
        fields["to"] = AwareDateTimeField(required=False)
        return fields


class SlotQuerySerializer(_FromTo):
    specialty = serializers.CharField(required=False, max_length=50)
    specialist = serializers.UUIDField(required=False)
    station = serializers.UUIDField(required=False)
    station_room = serializers.UUIDField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200)


class ConsultationQuerySerializer(_FromTo):
    status = serializers.CharField(required=False, max_length=200)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)

    def validate_status(self, value: str) -> list[str]:
        wanted = [v for v in value.split(",") if v]
        if any(v not in Consultation.Status.values for v in wanted):
            raise serializers.ValidationError(_("Unknown status."))
        return wanted


class RequestQuerySerializer(serializers.Serializer):
    open = serializers.BooleanField(required=False)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)
