"""OpenAPI generation: the schema says what the server does.

- A request body read by a `StrictSerializer` refuses unknown fields, so its component says
  `additionalProperties: false` (AutoSchema below, for every strict serializer at once).
- A write that runs through `clinics.idempotency.idempotent` declares the `Idempotency-Key`
  header: its view method carries `@takes_idempotency_key` (tests/telehealth/test_schema.py
  checks every view that calls `idempotent` has it).
- Every operation documents the one error shape (`add_error_responses`).
"""

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiParameter

from telehealth.serializers import StrictSerializer

ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message", "fields"],
    "properties": {
        "code": {"type": "string", "description": "Stable machine-readable code (docs/api.md)"},
        "message": {"type": "string", "description": "Human-readable, in the request's language"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Per-field messages; `__all__` for the request as a whole",
        },
    },
    "additionalProperties": True,
}

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "maxLength": 100},
    OpenApiParameter.HEADER,
    description="Retry-safe write: the same key and body get the first answer again "
    "(docs/api.md, “Retries”).",
)

View = TypeVar("View", bound=Callable[..., Any])


def takes_idempotency_key(method: View) -> View:
    """Mark a view method whose write runs through `idempotent()`: the schema declares the
    header on it (and on the methods that override it)."""
    method.takes_idempotency_key = True  # type: ignore[attr-defined]
    return method


class AutoSchema(SpectacularAutoSchema):
    def get_override_parameters(self) -> list[Any]:
        parameters = super().get_override_parameters()
        name = self.method.lower()
        if any(
            getattr(getattr(cls, name, None), "takes_idempotency_key", False)
            for cls in type(self.view).__mro__
        ):
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def _map_serializer(
        self, serializer: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(force_instance(serializer), StrictSerializer):
            schema["additionalProperties"] = False
        return schema


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOK: `default` response = Error, on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {
        "description": "Error (400 bad input, 401/403 auth, 404 not visible, 409 conflict, "
        "429 throttled)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("default", error)
    return result
