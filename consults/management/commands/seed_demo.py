"""Demo data (consults/demo/): Cao Bằng stations, central hospitals, specialists, fictional
patients, a living agenda and two months of past consults.

Idempotent: run it again and it updates what it made instead of duplicating it.
It lives in consults because the demo reaches every app; clinics imports no consults.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from consults.demo.agenda import seed_agenda
from consults.demo.history import seed_history
from consults.demo.world import ACCOUNTS, PASSWORD, seed_world


class Command(BaseCommand):
    help = "Create or refresh the demo facilities, accounts and patients (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            facilities = seed_world(self.stdout)
            seed_agenda(self.stdout)
            seed_history(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Demo logins (password for all: {PASSWORD}):")
        for username, name, role, code, *_ in ACCOUNTS:
            self.stdout.write(f"  {username:<12} {name} — {role} @ {facilities[code].name}")
        self.stdout.write(f"  {'admin':<12} Quản trị hệ thống — admin (/admin/)")
