"""The second factor (django-otp): who must have one, checking a code, enrolling an app.

A user has at most one confirmed TOTP device (an authenticator app) and one static device
holding her recovery codes. Wrong codes are throttled by the devices themselves: each failure
doubles the wait before the next try (OTP_TOTP_THROTTLE_FACTOR, OTP_STATIC_THROTTLE_FACTOR).
"""

import math
from base64 import b32encode

import segno
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.models import Membership, User
from telehealth.codes import Code
from telehealth.errors import AppError

RECOVERY_CODES = 10
# An administrator sees every patient of the programme, a coordinator every request of her
# hospital, a programme manager a province's figures: a password alone is not enough.
REQUIRED_ROLES = [
    Membership.Role.ADMIN,
    Membership.Role.COORDINATOR,
    Membership.Role.PROGRAMME_MANAGER,
]


def two_factor_required(user: User) -> bool:
    if user.is_superuser or user.is_staff:
        return True
    return Membership.objects.filter(user=user, is_active=True, role__in=REQUIRED_ROLES).exists()


def two_factor_enabled(user: User) -> bool:
    return bool(user_has_device(user, confirmed=True))


def _throttled(device: Device) -> AppError | None:
    allowed, extra = device.verify_is_allowed()
    if allowed:
        return None
    wait = (extra["locked_until"] - timezone.now()).total_seconds()
    return AppError(
        Code.THROTTLED,
        _("Too many wrong codes. Wait %(seconds)d seconds and try again.")
        % {"seconds": max(1, math.ceil(wait))},
        status=429,
    )


def _is_app_code(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


def otp_check(user: User, code: str) -> Device:
    """The device that accepts `code` (a 6-digit code from the app, or a recovery code, which
    is then used up); else raise `otp_required`, `invalid_otp` or `throttled`.

    Only the device the code's shape names is tried and charged: a wrong app code does not
    also count against the recovery codes. The devices are locked (SELECT … FOR UPDATE) while
    checked, so parallel guesses wait for each other's charge; errors are raised after the
    transaction so that the charge is committed.
    """
    code = "".join(code.split()).lower()
    if not code:
        raise AppError(Code.OTP_REQUIRED, _("Enter the 6-digit code from your app."))
    kind = TOTPDevice if _is_app_code(code) else StaticDevice
    error = AppError(Code.INVALID_OTP, _("Wrong code."))
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if not isinstance(device, kind):
                continue
            throttled = _throttled(device)
            if throttled is not None:
                error = throttled
            elif device.verify_token(code):
                return device
    raise error


def token_login_check(user: User, code: str) -> None:
    """The second factor of an API login (`POST auth/token/`), after the password: a user
    with a device gives its code, whether her role requires one or she chose it; a role that
    requires one and has none yet is refused `otp_setup_required`: a password alone never
    gets a token for it, and the enrolment (the QR code) lives in the browser."""
    if two_factor_enabled(user):
        otp_check(user, code)
    elif two_factor_required(user):
        raise AppError(
            Code.OTP_SETUP_REQUIRED,
            _(
                "Your role needs two-factor login. Log in in the browser to set it up, "
                "then log in here with the code from your app."
            ),
            status=403,
        )


def totp_enrol_begin(*, user: User) -> TOTPDevice:
    """The unconfirmed app device being enrolled, made if there is none: reloading the page
    shows the same QR code, so an app that already scanned it stays right."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    return device or TOTPDevice.objects.create(user=user, name="app", confirmed=False)


def totp_secret(device: TOTPDevice) -> str:
    """The secret as an app asks for it when typed: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG data URI, drawn here: no third-party origin sees it."""
    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2))


def totp_enrol_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the device being enrolled with a code from the app; return it and the new
    recovery codes (shown once, stored only in the device). Raises `invalid_otp`/`throttled`.
    """
    device = totp_enrol_begin(user=user)
    code = "".join(code.split())
    error = _throttled(device)
    if error is None:
        with transaction.atomic():
            device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
            if device.verify_token(code):
                return _confirmed(user, device)
        error = AppError(Code.INVALID_OTP, _("Wrong code."))
    raise error


def _confirmed(user: User, device: TOTPDevice) -> tuple[TOTPDevice, list[str]]:
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=c) for c in codes])
    return device, codes
