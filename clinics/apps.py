from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ClinicsConfig(AppConfig):
    name = "clinics"
    verbose_name = "Clinics"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from clinics.names import install_sqlite_collation
        from clinics.tokens import connect_revocation

        connection_created.connect(install_sqlite_collation, dispatch_uid="vi-collation")

        # Every path that changes a password or deactivates a user saves the user: the
        # admin's forms, `manage.py changepassword`, a shell (docs/decisions.md 37).
        connect_revocation()


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, its site behind the second factor (clinics.admin_site)."""

    default = False  # "clinics" itself is ClinicsConfig
    default_site = "clinics.admin_site.AdminSite"
