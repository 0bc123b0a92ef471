"""Delete Idempotency-Key answers past IDEMPOTENCY_RETENTION_HOURS (run by a systemd timer)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinics.idempotency import idempotency_records_purge


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key answers older than IDEMPOTENCY_RETENTION_HOURS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Rows per DELETE (default 1000)."
        )

    def handle(self, *args: Any, batch_size: int = 1000, **kw: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        removed = idempotency_records_purge(batch_size=batch_size)
        self.stdout.write(f"idempotency records removed: {removed}")
