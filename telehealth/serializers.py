"""Serializer base shared by every API: unknown fields are an error, not silently dropped,
and text fields take text only (DRF's CharField would quietly turn 0 into "0")."""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from telehealth.codes import Code
from telehealth.errors import AppError


class StrictSerializer(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise AppError(
                    Code.UNKNOWN_FIELD,
                    _("The request has fields this endpoint does not know."),
                    fields={name: [_("Unknown field.")] for name in unknown},
                )
            wrong_type = {
                name: [_("Not a valid string.")]
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and not field.read_only
                and isinstance(data.get(name), int | float)
            }
            if wrong_type:
                raise serializers.ValidationError(wrong_type)
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    pass
