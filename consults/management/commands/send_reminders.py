"""Send due consult reminders: a long-running loop, or one pass with --once (cron, tests)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from consults.scheduling.reminders import send_due


class Command(BaseCommand):
    help = "Send reminders 24 h and 15 min before consults (e-mail and SMS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--interval", type=float, default=30.0, help="Seconds between passes.")

    def handle(self, *args: Any, once: bool = False, interval: float = 30.0, **kw: Any) -> None:
        while True:
            handled = send_due()
            if handled or once:
                self.stdout.write(f"reminders handled: {handled}")
            if once:
                return
            time.sleep(interval)
