from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ClinicsConfig(AppConfig):
    name = "clinics"
    verbose_name = "Clinics"


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, its site behind the second factor (clinics.admin_site)."""

    default = False  # "clinics" itself is ClinicsConfig
    default_site = "clinics.admin_site.AdminSite"
