"""A second factor for tests: a confirmed app device, its current code, a verified session."""

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.models import User
from clinics.two_factor import two_factor_required


def app_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def app_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def login_verified(client: Client, user: User) -> TOTPDevice:
    """Log `user` in as if she had typed her code (what django_otp.login stores)."""
    device = app_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def api_login_codes(user: User, count: int) -> list[str]:
    """Codes for a client that logs `user` in over the API `count` times (recovery codes, each
    used up by one login: an app code is accepted once per 30 seconds); none for a user
    whose role needs no second factor."""
    if not two_factor_required(user):
        return []
    app_device(user)
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [f"api{n:05d}" for n in range(count)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes
