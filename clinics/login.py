"""Login with throttling: repeated failures per username and per IP are refused for a while.

The failures are kept LOGIN_FAILURE_RETENTION_HOURS, then purged (purge_login_failures).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import LoginFailure, User
from clinics.retention import delete_in_batches
from telehealth.errors import AppError


def _too_many(username: str, ip: str | None) -> bool:
    since = timezone.now() - settings.LOGIN_FAILURE_WINDOW
    recent = LoginFailure.objects.filter(at__gte=since)
    limit = settings.LOGIN_FAILURE_LIMIT
    if recent.filter(username=username.lower()).count() >= limit:
        return True
    # An IP gets more room: a whole station may sit behind one address.
    return bool(ip) and recent.filter(ip=ip).count() >= limit * 4


def login_check(request: HttpRequest, *, username: str, password: str) -> User:
    """Return the user for these credentials or raise `throttled` / `invalid_credentials`."""
    ip = request.META.get("REMOTE_ADDR") or None
    if _too_many(username, ip):
        raise AppError(
            "throttled",
            _("Too many failed logins. Wait %(minutes)d minutes and try again.")
            % {"minutes": int(settings.LOGIN_FAILURE_WINDOW.total_seconds() // 60)},
            status=429,
        )
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User) or not user.is_active:
        LoginFailure.objects.create(username=username.lower()[:150], ip=ip)
        raise AppError("invalid_credentials", _("Wrong username or password."), status=400)
    LoginFailure.objects.filter(username=username.lower()).delete()
    return user


def login_failures_purge(*, batch_size: int = 1000) -> int:
    """Delete the failures older than LOGIN_FAILURE_RETENTION_HOURS; return how many.

    In batches (clinics.retention), so logins recording failures meanwhile are not held
    up. The retention
    covers LOGIN_FAILURE_WINDOW (settings refuse less), so the throttle never loses a
    failure it still counts.
    """
    cutoff = timezone.now() - timedelta(hours=settings.LOGIN_FAILURE_RETENTION_HOURS)
    expired = LoginFailure.objects.filter(at__lt=cutoff)
    return delete_in_batches(expired, oldest_first="at", batch_size=batch_size)
