"""The one error type, and the handler that turns every error into one JSON shape.

    {"code": "slot_taken", "message": "…", "fields": {"start": ["…"]}}

`code` is stable and machine-readable; `message` is translated (vi/en).
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions as drf
from rest_framework.response import Response

from telehealth.codes import Code

logger = logging.getLogger(__name__)


class AppError(Exception):
    """A failure the caller can act on. Raised by services, access functions, views."""

    status = 400

    def __init__(
        self,
        code: Code,
        message: Any,
        *,
        status: int = 400,
        fields: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": str(self.message),
            "fields": {k: [str(m) for m in v] for k, v in self.fields.items()},
        }
        body.update(self.extra)
        return body


def not_found(message: Any = None) -> AppError:
    return AppError(Code.NOT_FOUND, message or gettext_lazy("Not found."), status=404)


def conflict(code: Code, message: Any, **extra: Any) -> AppError:
    return AppError(code, message, status=409, extra=extra)


def invalid(
    fields: dict[str, list[str]], message: Any = None, code: Code = Code.INVALID
) -> AppError:
    return AppError(
        code, message or gettext_lazy("Some fields are not valid."), status=400, fields=fields
    )


def _flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF nests errors (lists, dicts); flatten to {"field": ["message", …]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and not prefix:
                name = "__all__"
            for k, v in _flatten_fields(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        for i, value in enumerate(detail):
            if isinstance(value, dict | list):
                for k, v in _flatten_fields(value, f"{prefix}.{i}" if prefix else str(i)).items():
                    out.setdefault(k, []).extend(v)
            else:
                out.setdefault(prefix or "__all__", []).append(str(value))
    else:
        out.setdefault(prefix or "__all__", []).append(str(detail))
    return out


def from_django_validation(exc: DjangoValidationError) -> AppError:
    if hasattr(exc, "error_dict"):
        fields = {
            ("__all__" if k == "__all__" else k): [str(m) for e in v for m in e.messages]
            for k, v in exc.error_dict.items()
        }
    else:
        fields = {"__all__": [str(m) for m in exc.messages]}
    return invalid(fields)


def to_app_error(exc: Exception) -> AppError | None:
    """Map any known exception to an AppError; None for a real bug (500)."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, OperationalError | InterfaceError):
        # The database went away mid-request (restart, failover, a killed connection). The
        # write's transaction rolled back, so the same request, retried with its
        # Idempotency-Key, is safe.
        logger.warning("database unavailable: %s", exc)
        return AppError(
            Code.SERVICE_UNAVAILABLE,
            _("The server lost its database connection. Nothing was saved; try again."),
            status=503,
            extra={"retry_after": 2},
        )
    if isinstance(exc, DjangoValidationError):
        return from_django_validation(exc)
    if isinstance(exc, Http404 | drf.NotFound):
        return not_found()
    if isinstance(exc, drf.ValidationError):
        return invalid(_flatten_fields(exc.detail))
    if isinstance(exc, drf.ParseError):
        return AppError(Code.MALFORMED_REQUEST, _("The request body is not valid JSON."))
    if isinstance(exc, drf.UnsupportedMediaType):
        return AppError(
            Code.UNSUPPORTED_MEDIA_TYPE, _("Send the request body as JSON."), status=415
        )
    if isinstance(exc, drf.NotAuthenticated):
        return AppError(Code.NOT_AUTHENTICATED, _("Please log in first."), status=401)
    if isinstance(exc, drf.AuthenticationFailed):
        return AppError(
            Code.INVALID_TOKEN,
            _("Your login has expired or is not valid. Log in again."),
            status=401,
        )
    if isinstance(exc, drf.Throttled):
        return AppError(
            Code.THROTTLED,
            _("Too many attempts. Try again in a few minutes."),
            status=429,
            extra={"retry_after": getattr(exc, "wait", None)},
        )
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        return AppError(Code.PERMISSION_DENIED, _("You are not allowed to do this."), status=403)
    if isinstance(exc, drf.MethodNotAllowed):
        return AppError(Code.METHOD_NOT_ALLOWED, _("This action is not allowed here."), status=405)
    if isinstance(exc, drf.NotAcceptable):
        return AppError(
            Code.NOT_ACCEPTABLE, _("This response format is not available."), status=406
        )
    if isinstance(exc, drf.APIException):
        # DRF's own exceptions are all mapped above: one without a code of ours is a bug.
        return AppError(Code.SERVER_ERROR, str(exc.detail), status=exc.status_code)
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF EXCEPTION_HANDLER: every API error leaves in the documented shape."""
    from rest_framework.views import set_rollback  # rest_framework.views imports settings

    error = to_app_error(exc)
    if error is None:
        return None
    set_rollback()
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Token realm="api"'
    if error.status in (429, 503) and error.extra.get("retry_after"):
        headers["Retry-After"] = str(int(error.extra["retry_after"]))
    return Response(error.as_dict(), status=error.status, headers=headers)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: API clients get the JSON shape too, pages get a plain apology."""
    message = _("Something went wrong on the server. Try again; if it persists, call support.")
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": Code.SERVER_ERROR, "message": message, "fields": {}}, status=500
        )
    return HttpResponse(f"<!doctype html><title>500</title><p>{message}</p>", status=500)
