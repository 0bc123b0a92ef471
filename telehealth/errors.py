"""The one error type, and the handler that turns every error into one JSON shape.

    {"code": "slot_taken", "message": "…", "fields": {"start": ["…"]}}

`code` is stable and machine-readable; `message` is translated (vi/en).
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from rest_framework import exceptions as drf
from rest_framework.response import Response

from telehealth import metrics
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
    if isinstance(exc, RequestDataTooBig):
        return request_too_large()
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


def request_too_large() -> AppError:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return AppError(
        Code.REQUEST_TOO_LARGE,
        _("The request is too large: at most %(kib)d KiB, not counting attached files.")
        % {"kib": limit // 1024},
        status=413,
        extra={"max_bytes": limit},
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF EXCEPTION_HANDLER: every API error leaves in the documented shape."""
    from rest_framework.views import set_rollback  # rest_framework.views imports settings

    error = to_app_error(exc)
    if error is None:
        return None
    set_rollback()
    metrics.error_answered(error.code)
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Token realm="api"'
    if error.status in (429, 503) and error.extra.get("retry_after"):
        headers["Retry-After"] = str(int(error.extra["retry_after"]))
    return Response(error.as_dict(), status=error.status, headers=headers)


def _plain(request: HttpRequest, error: AppError) -> HttpResponse:
    """The JSON shape for the API; for a page, a plain one (these answers come from
    Django's handlers, where a page's template and its context may not be ready)."""
    metrics.error_answered(error.code)
    if request.path.startswith("/api/"):
        return JsonResponse(error.as_dict(), status=error.status)
    message = escape(str(error.message))
    return HttpResponse(
        f"<!doctype html><title>{error.status}</title><p>{message}</p>"
        f'<p><a href="/">{escape(_("Back to the home page"))}</a></p>',
        status=error.status,
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: API clients get the JSON shape too, pages get a plain apology."""
    message = _("Something went wrong on the server. Try again; if it persists, call support.")
    return _plain(request, AppError(Code.SERVER_ERROR, message, status=500))


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: what Django refuses before a view runs or while it reads the body (a
    body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many form fields) leaves as our errors."""
    error = to_app_error(exception) or AppError(
        Code.MALFORMED_REQUEST, _("The request could not be read.")
    )
    return _plain(request, error)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: an unknown /api/ path is the JSON `not_found`; pages keep Django's."""
    if request.path.startswith("/api/"):
        return _plain(request, not_found())
    return defaults.page_not_found(request, exception)
