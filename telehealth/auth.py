from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from drf_spectacular.authentication import SessionScheme
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

if TYPE_CHECKING:
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
