"""The second step of the page login (a code, or enrolment) and the account page.

Between the password and the second factor the user is not logged in: the session only
names her (`PENDING`), for LOGIN_SECOND_STEP_MINUTES. No page, API call or socket sees her
as signed in until the code is right, so there is no half-logged-in state to guard.
"""

import time
from typing import Any

import django_otp
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_otp.models import Device

from clinics.models import User
from clinics.two_factor import (
    otp_check,
    totp_enrol_begin,
    totp_enrol_confirm,
    totp_qr_data_uri,
    totp_secret,
    two_factor_enabled,
    two_factor_required,
)
from frontend.pages import page_user
from telehealth.errors import AppError

PENDING = "login_pending"


def login_continue(request: HttpRequest, user: User, target: str) -> HttpResponse:
    """After the right password: log in, or hold the login for a code or an enrolment."""
    if not two_factor_enabled(user) and not two_factor_required(user):
        login(request, user)
        return redirect(target)
    request.session.cycle_key()  # the id an attacker may have planted does not reach step two
    request.session[PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "next": target,
        "at": time.time(),
    }
    return redirect("frontend:login-code" if two_factor_enabled(user) else "frontend:enrol")


def _pending(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    held = request.session.get(PENDING)
    if not isinstance(held, dict):
        return None
    if time.time() - held["at"] > settings.LOGIN_SECOND_STEP_MINUTES * 60:
        del request.session[PENDING]
        return None
    user = User.objects.filter(pk=held["user"], is_active=True).first()
    return (user, held) if user is not None else None


def _finish(request: HttpRequest, user: User, held: dict[str, Any], device: Device) -> None:
    del request.session[PENDING]
    login(request, user, backend=held["backend"])
    django_otp.login(request, device)


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None or not two_factor_enabled(pending[0]):
        return redirect("frontend:login")
    user, held = pending
    error = ""
    status = 200
    if request.method == "POST":
        try:
            device = otp_check(user, request.POST.get("code", ""))
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            _finish(request, user, held, device)
            return redirect(held["next"])
    return render(request, "frontend/login_code.html", {"error": error}, status=status)


@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: while the login is held (a role that needs one), or from
    the account page (anyone signed in)."""
    pending = None if request.user.is_authenticated else _pending(request)
    if pending is None and not request.user.is_authenticated:
        return redirect("frontend:login")
    user = pending[0] if pending is not None else page_user(request)
    if two_factor_enabled(user):
        return redirect("frontend:account")
    device = totp_enrol_begin(user=user)
    error = ""
    status = 200
    if request.method == "POST":
        try:
            device, codes = totp_enrol_confirm(user=user, code=request.POST.get("code", ""))
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            if pending is not None:
                _finish(request, user, pending[1], device)
                target = pending[1]["next"]
            else:
                django_otp.login(request, device)
                target = reverse("frontend:account")
            return render(request, "frontend/recovery_codes.html", {"codes": codes, "next": target})
    return render(
        request,
        "frontend/enrol.html",
        {
            "qr": totp_qr_data_uri(device),
            "secret": totp_secret(device),
            "error": error,
            "required": pending is not None,
        },
        status=status,
    )


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    return render(request, "frontend/account.html", {"enabled": two_factor_enabled(user)})
