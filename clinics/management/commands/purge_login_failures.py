"""Delete failed logins past LOGIN_FAILURE_RETENTION_HOURS (run by a systemd timer)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinics.login import login_failures_purge


class Command(BaseCommand):
    help = "Delete recorded failed logins older than LOGIN_FAILURE_RETENTION_HOURS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Rows per DELETE (default 1000)."
        )

    def handle(self, *args: Any, batch_size: int = 1000, **kw: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        removed = login_failures_purge(batch_size=batch_size)
        self.stdout.write(f"login failures removed: {removed}")
