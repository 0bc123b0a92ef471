"""Serializer base shared by every API: unknown fields are an error, not silently dropped."""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from telehealth.errors import AppError


class StrictSerializer(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise AppError(
                    "unknown_field",
                    _("The request has fields this endpoint does not know."),
                    fields={name: [_("Unknown field.")] for name in unknown},
                )
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    pass
