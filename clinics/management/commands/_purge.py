"""The shape of the retention commands (run by the hourly purge unit in deploy/)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class PurgeCommand(BaseCommand):
    what = ""  # "… removed: N"

    def purge(self, *, batch_size: int) -> int:
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Rows per DELETE (default 1000)."
        )

    def handle(self, *args: Any, batch_size: int = 1000, **kw: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        self.stdout.write(f"{self.what} removed: {self.purge(batch_size=batch_size)}")
