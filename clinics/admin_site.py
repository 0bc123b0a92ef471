"""The admin site: the one login throttle, then a code from a confirmed device.

Kept apart from clinics/admin.py, which registers models on this site: Django builds the
site from here before any admin module is imported.
"""

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from django_otp.admin import OTPAdminSite

from clinics.login import login_check
from clinics.two_factor import otp_check, two_factor_enabled
from telehealth.codes import Code
from telehealth.errors import AppError


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form: the password through the one login throttle (clinics.login),
    then the code through clinics.two_factor (throttled by the device)."""

    otp_token = forms.CharField(required=False, label=_("6-digit code or recovery code"))

    @sensitive_variables("password")
    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            assert self.request is not None  # the admin's LoginView always passes it
            try:
                self.user_cache = login_check(self.request, username=username, password=password)
            except AppError as exc:
                if exc.code == Code.THROTTLED:
                    raise ValidationError(exc.message, code="throttled") from exc
                raise self.get_invalid_login_error() from exc
            self.confirm_login_allowed(self.user_cache)
            if not two_factor_enabled(self.user_cache):
                raise ValidationError(
                    _("Set up two-factor login first: log in on the main login page."),
                    code="otp_enrol",
                )
            try:
                # The admin's LoginView then calls login(), on which django_otp reads this
                # attribute and marks the session verified.
                self.user_cache.otp_device = otp_check(  # type: ignore[attr-defined]
                    self.user_cache, self.cleaned_data.get("otp_token", "")
                )
            except AppError as exc:
                raise ValidationError(exc.message, code=exc.code) from exc
        return self.cleaned_data


class AdminSite(OTPAdminSite):
    """Only a session verified by a device enters, whoever the user (OTPAdminSite)."""

    login_form = ThrottledAdminAuthenticationForm

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
