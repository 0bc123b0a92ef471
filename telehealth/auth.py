from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema

    from clinics.models import User

from telehealth.codes import Code
from telehealth.errors import AppError


class CsrfSessionAuthentication(SessionAuthentication):
    """Session auth for the browser; a write without a valid CSRF token gets `csrf_failed`."""

    def enforce_csrf(self, request: Request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as exc:
            raise AppError(
                Code.CSRF_FAILED,
                _("The page has expired (missing security token). Reload the page and try again."),
                status=403,
            ) from exc


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token …` checked by django-rest-knox (hashed, expiring; clinics.tokens)."""

    def authenticate_credentials(self, token: bytes) -> tuple["User", Any]:
        # knox decodes the header as UTF-8 unchecked: other bytes would be a 500.
        try:
            token.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed() from exc
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token: Any) -> bool:
        """Whether the token presented has expired (then deleted). knox also deletes the
        user's other expired tokens here, one more query on every request: a login does that
        instead (clinics.tokens.api_token_issue)."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


def request_user(request: Request) -> "User":
    """The authenticated user of an API request (views require authentication)."""
    from clinics.models import User

    user = request.user
    if not isinstance(user, User):
        raise AppError(Code.NOT_AUTHENTICATED, _("Please log in first."), status=401)
    return user


class CsrfSessionScheme(SessionScheme):
    """OpenAPI: our session authentication is plain cookie auth."""

    target_class = "telehealth.auth.CsrfSessionAuthentication"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """OpenAPI: the token header, described as DRF's own token scheme was."""

    target_class = "telehealth.auth.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: "AutoSchema") -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token-based authentication with required prefix "Token"',
        }
